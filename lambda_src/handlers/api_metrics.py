"""api-metrics: /health and /metrics…"""

from aws_lambda_powertools import Logger, Tracer

from pivotr.env import MetricsEnv
from pivotr.routes.metrics import build

logger, tracer = Logger(), Tracer()
app = build(MetricsEnv.load())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
