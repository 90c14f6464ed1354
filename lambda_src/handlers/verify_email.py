"""verify-email: leads from the verification queue (partial batch response).

Not Powertools' BatchProcessor, which handles records one after another: ten verifier calls of up to
8 s each would not fit the 15 s timeout. The service runs the batch's calls side by side within the
time the invocation has left and reports the rest for retry."""

from aws_lambda_powertools import Tracer
from pivotr.env import VerifyEnv
from pivotr.logs import Logger
from pivotr.services.verification import VerificationService
from pivotr.tracing import AWS_AND_HTTP_CALLS

logger, tracer = Logger(), Tracer(patch_modules=AWS_AND_HTTP_CALLS)
service = VerificationService(VerifyEnv.load())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    retry = service.handle_batch(event.get("Records", []), context.get_remaining_time_in_millis)  # type: ignore[attr-defined]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in retry]}
