"""CloudWatch metrics as plain values; constructs expose them through ``metric_*`` helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

PERIOD = 300  # seconds: the alarm and dashboard granularity


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str] = field(default_factory=dict)
    statistic: str = "Sum"
    period: int = PERIOD  # seconds
    label: str = ""

    def widget_entry(self) -> list[object]:
        """The metric as a dashboard widget line."""
        entry: list[object] = [self.namespace, self.name]
        for key, value in sorted(self.dimensions.items()):
            entry += [key, value]
        entry.append({"stat": self.statistic, "period": self.period, **({"label": self.label} if self.label else {})})
        return entry


@dataclass(frozen=True)
class MathMetric:
    """``expression`` over named metrics, e.g. ``reads + writes``."""

    expression: str
    metrics: dict[str, Metric]
    label: str
    period: int = PERIOD  # seconds
