"""SQS queues, each with its own DLQ; existing queues referenced by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from modules import tf
from modules.iam import Grantee, Statement
from modules.metrics import Metric
from modules.naming import env_var


class Configurable(Grantee, Protocol):
    def add_environment(self, key: str, value: str) -> None: ...


DLQ_RETENTION = 14 * 24 * 3600  # seconds: keep failed messages as long as SQS allows
QUEUE_RETENTION = 4 * 24 * 3600  # seconds
CONSUME_ACTIONS = ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")
SEND_ACTIONS = ("sqs:SendMessage",)  # SendMessageBatch too; the URL comes from the environment, never GetQueueUrl


@dataclass(frozen=True)
class QueueProps:
    name: str  # short name, e.g. "sending"
    visibility_timeout: int  # seconds; at least 6x the consumer's timeout (checked on connect)
    max_receive_count: int  # receives before a message moves to the DLQ
    retention: int = QUEUE_RETENTION  # seconds

    def __post_init__(self) -> None:
        if not 1 <= self.max_receive_count <= 5:
            raise ValueError(f"{self.name}: max receive count {self.max_receive_count} outside 1..5")


class QueueRef:
    """Grants and metrics shared by created and referenced queues."""

    arn: str
    url: str
    queue_name: str
    short_name: str

    def grant_send(self, grantee: Grantee) -> None:
        """sqs:SendMessage (and so SendMessageBatch) on this queue."""
        grantee.add_to_policy(Statement(SEND_ACTIONS, (self.arn,)))

    def grant_consume(self, grantee: Grantee) -> None:
        """sqs:ReceiveMessage, DeleteMessage, ChangeMessageVisibility, GetQueueAttributes on this queue."""
        grantee.add_to_policy(Statement(CONSUME_ACTIONS, (self.arn,)))

    def connect_producer(self, function: Configurable) -> None:
        """Let ``function`` send to this queue: send grant and ``<NAME>_QUEUE_URL``."""
        self.grant_send(function)
        function.add_environment(env_var(self.short_name, "QUEUE_URL"), self.url)

    def metric(self, name: str, statistic: str = "Maximum") -> Metric:
        return Metric("AWS/SQS", name, {"QueueName": self.queue_name}, statistic)

    def metric_age_of_oldest_message(self) -> Metric:
        return self.metric("ApproximateAgeOfOldestMessage")

    def metric_visible_messages(self) -> Metric:
        return self.metric("ApproximateNumberOfMessagesVisible")


class DeadLetterQueue(tf.Construct, QueueRef):
    def __init__(self, scope: tf.Construct, id: str, *, queue_name: str) -> None:
        super().__init__(scope, id)
        self.queue_name = queue_name
        self.short_name = queue_name
        self.queue = tf.SqsQueue(
            self, "queue", name=queue_name, sqs_managed_sse_enabled=True, message_retention_seconds=DLQ_RETENTION
        )
        self.arn, self.url = self.queue.arn, self.queue.url


class Queue(tf.Construct, QueueRef):
    """A work queue and its DLQ; the DLQ admits only this queue's messages."""

    def __init__(self, scope: tf.Construct, id: str, *, props: QueueProps, queue_name: str) -> None:
        super().__init__(scope, id)
        self.props = props
        self.queue_name = queue_name
        self.short_name = props.name
        self.dlq = DeadLetterQueue(self, "dlq", queue_name=f"{queue_name}-dlq")
        self.queue = tf.SqsQueue(
            self,
            "queue",
            name=queue_name,
            sqs_managed_sse_enabled=True,
            visibility_timeout_seconds=props.visibility_timeout,
            message_retention_seconds=props.retention,
            receive_wait_time_seconds=20,  # long polling
            redrive_policy=json.dumps(
                {"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": props.max_receive_count}, sort_keys=True
            ),
        )
        self.arn, self.url = self.queue.arn, self.queue.url  # read once: each read is a jsii round trip
        tf.SqsQueueRedriveAllowPolicy(
            self,
            "dlq-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [self.arn]}, sort_keys=True
            ),
        )


    def accept_events_from(self, service: str, source_arn: str) -> tf.SqsQueuePolicy:
        """The queue policy that lets ``service`` (e.g. s3.amazonaws.com) send the events of exactly
        ``source_arn``; returned so the sender's configuration can depend on it (S3 checks it)."""
        return tf.SqsQueuePolicy(self, "events-policy", queue_url=self.url, policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "OnlyTheseEvents", "Effect": "Allow", "Principal": {"Service": service},
                           "Action": "sqs:SendMessage", "Resource": self.arn,
                           "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}}}],
        }, sort_keys=True))


class ExistingQueue(tf.Construct, QueueRef):
    """A queue this stack does not own (the owner's SES feedback queue), looked up by name at plan time."""

    def __init__(self, scope: tf.Construct, id: str, *, queue_name: str, short_name: str) -> None:
        super().__init__(scope, id)
        self.queue_name = queue_name
        self.short_name = short_name
        self.data = tf.DataAwsSqsQueue(self, "queue", name=queue_name)
        self.arn, self.url = self.data.arn, self.data.url
        self.dlq: QueueRef | None = None
