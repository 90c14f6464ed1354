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

# What a function's code does with a table -> the one action IAM checks for it. Connections name
# the operations the code performs (tests/handlers record every call and compare with the policy).
OPERATIONS = {
    "get": "dynamodb:GetItem",
    "batch_get": "dynamodb:BatchGetItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "put": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "batch_write": "dynamodb:BatchWriteItem",
    "condition_check": "dynamodb:ConditionCheckItem",  # a condition on this table inside a transaction
}


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
    def grant(self, grantee: Grantee, *operations: str, indexes: tuple[str, ...] = ()) -> None:
        """Exactly the actions of ``operations`` (keys of OPERATIONS) on the table, and Query on ``indexes``."""
        unknown = sorted(set(operations) - set(OPERATIONS)) + sorted(set(indexes) - {i.name for i in self.props.indexes})
        if unknown:
            raise ValueError(f"{self.props.name}: unknown operations or indexes {unknown}")
        if operations:
            grantee.add_to_policy(Statement(tuple(sorted(OPERATIONS[o] for o in set(operations))), (self.arn,)))
        if indexes:
            grantee.add_to_policy(Statement(("dynamodb:Query",), tuple(f"{self.arn}/index/{i}" for i in sorted(indexes))))

    def connect(self, function: "PythonFunction", *operations: str, indexes: tuple[str, ...] = ()) -> None:
        """Give ``function`` this table: the grants of the operations its code performs, and ``<NAME>_TABLE``."""
        self.grant(function, *operations, indexes=indexes)
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
