"""DynamoDB tables: on-demand, encrypted, point-in-time recovery; protected in prod."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modules import tf
from modules.iam import Grantee, Statement
from modules.metrics import MathMetric, Metric
from modules.naming import env_var

if TYPE_CHECKING:
    from modules.function import PythonFunction

READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str = ""


@dataclass(frozen=True)
class TableProps:
    name: str  # short name, e.g. "leads"
    partition_key: str
    sort_key: str = ""
    indexes: tuple[Index, ...] = ()
    protect: bool = False  # deletion protection + prevent_destroy
    ttl_attribute: str = ""


class Table(tf.Construct):
    def __init__(self, scope: tf.Construct, id: str, *, props: TableProps, table_name: str) -> None:
        super().__init__(scope, id)
        self.props = props
        self.table_name = table_name
        keys = [props.partition_key, props.sort_key] + [k for i in props.indexes for k in (i.partition_key, i.sort_key)]
        attributes = sorted({key for key in keys if key})
        self.table = tf.DynamodbTable(
            self,
            "table",
            name=table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=props.partition_key,
            range_key=props.sort_key or None,
            attribute=[tf.DynamodbTableAttribute(name=name, type="S") for name in attributes],
            global_secondary_index=[
                tf.DynamodbTableGlobalSecondaryIndex(
                    name=index.name,
                    hash_key=index.partition_key,
                    range_key=index.sort_key or None,
                    projection_type="ALL",
                )
                for index in props.indexes
            ]
            or None,
            server_side_encryption=tf.DynamodbTableServerSideEncryption(enabled=True),
            point_in_time_recovery=tf.DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=props.protect,
            lifecycle=tf.TerraformResourceLifecycle(prevent_destroy=True) if props.protect else None,
        )

        self.arn: str = self.table.arn  # read once: each read is a jsii round trip

    def _resources(self) -> tuple[str, ...]:
        return (self.arn, *(f"{self.arn}/index/{index.name}" for index in self.props.indexes))

    # -- grants -----------------------------------------------------------------------------------
    def grant_read_data(self, grantee: Grantee) -> None:
        """GetItem, BatchGetItem, Query, Scan, ConditionCheckItem on the table and its indexes."""
        grantee.add_to_policy(Statement(READ_ACTIONS, self._resources()))

    def grant_write_data(self, grantee: Grantee) -> None:
        """PutItem, UpdateItem, DeleteItem, BatchWriteItem on the table."""
        grantee.add_to_policy(Statement(WRITE_ACTIONS, (self.arn,)))

    def grant_read_write_data(self, grantee: Grantee) -> None:
        """Both of the above."""
        self.grant_read_data(grantee)
        self.grant_write_data(grantee)

    def connect(self, function: "PythonFunction", *, write: bool = False) -> None:
        """Give ``function`` this table: read (or read and write) grants and ``<NAME>_TABLE``."""
        (self.grant_read_write_data if write else self.grant_read_data)(function)
        function.add_environment(env_var(self.props.name, "TABLE"), self.table_name)

    # -- metrics ----------------------------------------------------------------------------------
    def metric(self, name: str, statistic: str = "Sum") -> Metric:
        return Metric("AWS/DynamoDB", name, {"TableName": self.table_name}, statistic)

    def metric_throttle_events(self) -> MathMetric:
        """Read plus write throttle events of the table."""
        return MathMetric(
            "reads + writes",
            {"reads": self.metric("ReadThrottleEvents"), "writes": self.metric("WriteThrottleEvents")},
            label=f"{self.props.name} throttles",
        )
