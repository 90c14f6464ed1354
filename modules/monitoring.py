"""Alarms to an SNS topic, one dashboard, a monthly budget and a cost anomaly monitor per stage."""

from __future__ import annotations

import json
import re

from modules import tf
from modules.metrics import MathMetric, Metric
from modules.naming import Naming

BUDGET_ACTUAL_ALERTS = (50, 80, 100)  # percent of the monthly budget, actual spend
BUDGET_FORECAST_ALERTS = (100,)  # percent, forecasted spend
ANOMALY_IMPACT_USD = 10  # USD: smallest anomaly worth an alert
# SES reputation (account-wide ratios): AWS puts an account under review at a 5 % bounce rate or a
# 0.1 % complaint rate (and may pause its sending at 10 % / 0.5 %). The warnings fire earlier, at the
# bounce rate AWS recommends staying under (2 %) and at half the complaint review level, while there
# is still time to clean the list.
SES_BOUNCE_RATE_REVIEW = 0.05
SES_COMPLAINT_RATE_REVIEW = 0.001
SES_BOUNCE_RATE_WARNING = 0.02
SES_COMPLAINT_RATE_WARNING = 0.0005
# Missing data: most alarms read "no data" as "nothing happened" (notBreaching). A DLQ's depth must
# not: SQS stops publishing a queue's metrics once no API call has touched it for 6 hours, even while
# it holds messages, so the alarm would clear with the messages still there. "ignore" keeps the
# alarm's last state instead ("breaching" would alarm on every idle, empty DLQ).
MISSING_DATA_DEFAULT = "notBreaching"
MISSING_DATA_KEEP_STATE = "ignore"
SIMPLE_STATISTICS = frozenset({"Sum", "Average", "Maximum", "Minimum", "SampleCount"})


class Monitoring(tf.Construct):
    def __init__(self, scope: tf.Construct, id: str, *, naming: Naming, alarm_email: str, region: str, account: str) -> None:
        super().__init__(scope, id)
        self.naming = naming
        self.region = region
        self.account = account
        self.topic = tf.SnsTopic(self, "alarms", name=naming.name("alarms"))
        self.topic_arn: str = self.topic.arn  # read once: each read is a jsii round trip
        if alarm_email:
            tf.SnsTopicSubscription(self, "alarm-email", topic_arn=self.topic_arn, protocol="email", endpoint=alarm_email)
        self.alarms: list[str] = []
        self._widgets: list[dict[str, object]] = []

    # -- alarms -----------------------------------------------------------------------------------
    def alarm(self, short_name: str, metric: Metric | MathMetric, *, threshold: float, comparison: str,
              description: str, evaluation_periods: int = 1,
              missing_data: str = MISSING_DATA_DEFAULT) -> tf.CloudwatchMetricAlarm:
        """An alarm that notifies the topic on ALARM and OK; missing data is not breaching unless said."""
        if not re.fullmatch(r"[a-z0-9-]+", short_name):
            raise ValueError(f"alarm name part must be lower-case words: {short_name!r}")
        name = self.naming.name(short_name)
        common = dict(
            alarm_name=name,
            alarm_description=description,
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            treat_missing_data=missing_data,
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
        )
        if isinstance(metric, MathMetric):
            queries = [
                tf.CloudwatchMetricAlarmMetricQuery(id="total", expression=metric.expression, label=metric.label, return_data=True)
            ] + [
                tf.CloudwatchMetricAlarmMetricQuery(
                    id=key,
                    metric=tf.CloudwatchMetricAlarmMetricQueryMetric(
                        namespace=m.namespace, metric_name=m.name, dimensions=m.dimensions, period=m.period, stat=m.statistic
                    ),
                )
                for key, m in sorted(metric.metrics.items())
            ]
            alarm = tf.CloudwatchMetricAlarm(self, short_name, metric_query=queries, **common)
        else:
            simple = metric.statistic in SIMPLE_STATISTICS  # others are percentiles such as p90
            alarm = tf.CloudwatchMetricAlarm(
                self, short_name, namespace=metric.namespace, metric_name=metric.name,
                dimensions=metric.dimensions or None, period=metric.period,
                statistic=metric.statistic if simple else None,
                extended_statistic=None if simple else metric.statistic,
                **common,
            )
        self.alarms.append(name)
        return alarm

    def alarm_dlq(self, short_name: str, metric: Metric, *, description: str) -> tf.CloudwatchMetricAlarm:
        """Any message in a dead-letter queue; the alarm keeps its state while SQS publishes nothing."""
        return self.alarm(short_name, metric, threshold=0, comparison="GreaterThanThreshold",
                          description=description, missing_data=MISSING_DATA_KEEP_STATE)

    def alarm_ses_reputation(self) -> None:
        """Account-level SES reputation: an early warning, then the level where AWS reviews the account."""
        for short_name, metric_name, threshold, text in (
            ("ses-bounce-rate-warning", "Reputation.BounceRate", SES_BOUNCE_RATE_WARNING,
             "SES bounce rate at or above 2 % (AWS's recommended maximum): clean or verify the list before 5 %"),
            ("ses-bounce-rate", "Reputation.BounceRate", SES_BOUNCE_RATE_REVIEW,
             "SES bounce rate at or above 5 %: AWS reviews the account; pause campaigns"),
            ("ses-complaint-rate-warning", "Reputation.ComplaintRate", SES_COMPLAINT_RATE_WARNING,
             "SES complaint rate at or above 0.05 %: half of the review level; check targeting and opt-outs"),
            ("ses-complaint-rate", "Reputation.ComplaintRate", SES_COMPLAINT_RATE_REVIEW,
             "SES complaint rate at or above 0.1 %: AWS reviews the account; pause campaigns"),
        ):
            self.alarm(short_name, Metric("AWS/SES", metric_name, statistic="Maximum"), threshold=threshold,
                       comparison="GreaterThanOrEqualToThreshold", description=text)

    # -- dashboard --------------------------------------------------------------------------------
    def add_graph(self, title: str, metrics: list[Metric]) -> None:
        self._widgets.append(
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {"title": title, "region": self.region, "view": "timeSeries",
                               "metrics": [m.widget_entry() for m in metrics]},
            }
        )

    def dashboard(self) -> tf.CloudwatchDashboard:
        """Lay out the graphs added so far (two per row) as one dashboard."""
        widgets = [{**w, "x": (i % 2) * 12, "y": (i // 2) * 6} for i, w in enumerate(self._widgets)]
        self.dashboard_name = self.naming.name("overview")
        return tf.CloudwatchDashboard(
            self, "dashboard", dashboard_name=self.dashboard_name,
            dashboard_body=json.dumps({"widgets": widgets}, sort_keys=True),
        )

    @property
    def dashboard_url(self) -> str:
        return f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}#dashboards:name={self.dashboard_name}"

    # -- cost ---------------------------------------------------------------------------------------
    def budget(self, monthly_usd: int) -> None:
        """A monthly cost budget for this stage's Environment tag, alerting the alarm topic.

        Both notify only once the topic's policy lets them publish (depends_on: Budgets and Cost
        Anomaly Detection check it when the subscription is created)."""
        policy = self._allow_services_to_publish()
        notifications = [
            tf.BudgetsBudgetNotification(comparison_operator="GREATER_THAN", threshold=pct, threshold_type="PERCENTAGE",
                                         notification_type=kind, subscriber_sns_topic_arns=[self.topic_arn])
            for kind, percents in (("ACTUAL", BUDGET_ACTUAL_ALERTS), ("FORECASTED", BUDGET_FORECAST_ALERTS))
            for pct in percents
        ]
        tf.BudgetsBudget(
            self, "budget", name=self.naming.name("monthly"), budget_type="COST", limit_amount=f"{monthly_usd}",
            limit_unit="USD", time_unit="MONTHLY",
            cost_filter=[tf.BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"user:Environment${self.naming.stage}"])],
            notification=notifications,
            depends_on=[policy],
        )
        # One AWS-services monitor is allowed per account, so each stage gets a custom monitor on its tag.
        monitor = tf.CeAnomalyMonitor(
            self, "anomaly-monitor", name=self.naming.name("cost"), monitor_type="CUSTOM",
            monitor_specification=anomaly_specification({"Key": "Environment", "Values": [self.naming.stage]}),
        )
        tf.CeAnomalySubscription(
            self, "anomaly-subscription", name=self.naming.name("cost-anomalies"), frequency="IMMEDIATE",
            monitor_arn_list=[monitor.arn],
            subscriber=[tf.CeAnomalySubscriptionSubscriber(type="SNS", address=self.topic_arn)],
            depends_on=[policy],
            threshold_expression=tf.CeAnomalySubscriptionThresholdExpression(
                dimension=tf.CeAnomalySubscriptionThresholdExpressionDimension(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"], values=[str(ANOMALY_IMPACT_USD)]
                )
            ),
        )

    def _allow_services_to_publish(self) -> tf.SnsTopicPolicy:
        """CloudWatch alarms, Budgets and Cost Anomaly Detection may publish, for this account only
        (aws:SourceAccount: without it, any account's alarm or budget could use the topic)."""
        only_this_account = {"StringEquals": {"aws:SourceAccount": self.account}}
        return tf.SnsTopicPolicy(
            self, "alarms-policy", arn=self.topic_arn,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "CloudWatchAlarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                         "Action": "sns:Publish", "Resource": self.topic_arn, "Condition": only_this_account},
                        {"Sid": "BudgetsAndCostAnomalies", "Effect": "Allow",
                         "Principal": {"Service": ["budgets.amazonaws.com", "costalerts.amazonaws.com"]},
                         "Action": "sns:Publish", "Resource": self.topic_arn, "Condition": only_this_account},
                    ],
                },
                sort_keys=True,
            ),
        )


# Cost Explorer's Expression, every member written out: the provider reads the monitor back by
# re-marshalling the SDK structure, so each unset member comes back as null, and an absent key does
# not compare equal to null: the specification would differ on every plan and, as it forces
# replacement, the monitor would be replaced on every apply (hashicorp/terraform-provider-aws#39885).
ANOMALY_EXPRESSION_KEYS = ("And", "CostCategories", "Dimensions", "Not", "Or", "Tags")
ANOMALY_VALUES_KEYS = ("Key", "MatchOptions", "Values")


def anomaly_specification(tags: dict[str, object]) -> str:
    """A tag expression as the provider reads it back. MatchOptions stays null: the API documents
    it for cost categories only, and Values already matches exactly."""
    values = {key: tags.get(key) for key in ANOMALY_VALUES_KEYS}
    if values["MatchOptions"] is not None:
        raise ValueError("MatchOptions is for cost categories; a tag expression matches its Values exactly")
    return json.dumps({key: (values if key == "Tags" else None) for key in ANOMALY_EXPRESSION_KEYS}, sort_keys=True)
