"""send-email: campaign e-mails and dispatch ticks from the sending queue (partial batch response).

Not Powertools' per-record BatchProcessor: a batch's e-mails are claimed in one transaction, which
is what keeps AWS requests under two per e-mail."""

from aws_lambda_powertools import Tracer
from pivotr.env import SendEnv
from pivotr.logs import Logger
from pivotr.services.sending import SendingService
from pivotr.tracing import AWS_CALLS

logger, tracer = Logger(), Tracer(patch_modules=AWS_CALLS)
service = SendingService(SendEnv.load())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    retry = service.handle(event.get("Records", []), context.get_remaining_time_in_millis)  # type: ignore[attr-defined]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in retry]}
