"""process-feedback: SES bounces, complaints and events from the feedback queue (partial batch response)."""

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pivotr.env import FeedbackEnv
from pivotr.logs import Logger
from pivotr.services.feedback import FeedbackService
from pivotr.tracing import AWS_CALLS

logger, tracer = Logger(), Tracer(patch_modules=AWS_CALLS)
processor = BatchProcessor(event_type=EventType.SQS)
service = FeedbackService(FeedbackEnv.load())


def record_handler(record: SQSRecord) -> str:
    return service.handle(record.body, record.message_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
