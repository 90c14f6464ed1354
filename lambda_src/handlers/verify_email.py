"""verify-email: leads from the verification queue (partial batch response)."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pivotr.env import VerifyEnv
from pivotr.routes.verification import VerificationService

logger, tracer = Logger(), Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
service = VerificationService(VerifyEnv.load())


def record_handler(record: SQSRecord) -> str:
    return service.handle(record.body)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
