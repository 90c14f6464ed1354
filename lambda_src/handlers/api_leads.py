"""api-leads: /leads, /leads/{id}, /leads/{id}/history."""

from aws_lambda_powertools import Tracer
from pivotr.env import LeadsEnv
from pivotr.logs import Logger
from pivotr.routes.leads import build
from pivotr.tracing import AWS_CALLS

logger, tracer = Logger(), Tracer(patch_modules=AWS_CALLS)
app = build(LeadsEnv.load())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
