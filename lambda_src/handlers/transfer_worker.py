"""transfer-worker: import and export jobs from the transfers queue (partial batch response)."""

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pivotr.env import TransferEnv
from pivotr.logs import Logger
from pivotr.routes.transfers import TransferWorker, transfers
from pivotr.tracing import AWS_CALLS

logger, tracer = Logger(), Tracer(patch_modules=AWS_CALLS)
processor = BatchProcessor(event_type=EventType.SQS)
worker = TransferWorker(transfers(TransferEnv.load()))


def record_handler(record: SQSRecord, lambda_context: object) -> None:
    worker.handle(record.body, lambda_context.get_remaining_time_in_millis)  # type: ignore[attr-defined]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
