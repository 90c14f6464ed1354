"""api-unsubscribe: the public GET and POST /unsubscribe (one-click, RFC 8058)."""

from aws_lambda_powertools import Tracer
from pivotr.env import UnsubscribeEnv
from pivotr.logs import Logger
from pivotr.routes.unsubscribe import build
from pivotr.tracing import AWS_CALLS

logger, tracer = Logger(), Tracer(patch_modules=AWS_CALLS)
app = build(UnsubscribeEnv.load())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
