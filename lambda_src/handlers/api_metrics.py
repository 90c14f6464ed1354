"""api-metrics: /health and /metrics…"""

from aws_lambda_powertools import Tracer
from pivotr.env import MetricsEnv
from pivotr.logs import Logger
from pivotr.routes.metrics import build
from pivotr.tracing import AWS_CALLS

logger, tracer = Logger(), Tracer(patch_modules=AWS_CALLS)
app = build(MetricsEnv.load())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
