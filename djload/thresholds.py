"""Thresholds: conditions on a run's metrics that decide whether it passes, as CI wants it (exit code 4).

A scenario's ``thresholds:`` maps a summary metric to a condition, e.g. ``mean_latency_ms: "< 2100"``.
Each is judged on the summary row (with --repeat, on the median run) and recorded in the row's
``thresholds`` list. ``--fail-on-deviation PCT`` adds one more kind: total time and mean latency within
PCT % of the scenario's ``expected:`` numbers.
"""

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from djload.summary import METRIC_KEYS, Row, ThresholdCheck

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
CONDITION = re.compile(r"\s*(<=|>=|==|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*")
DEVIATION_METRICS = ("total_time_s", "mean_latency_ms")  # what --fail-on-deviation holds to `expected:`


@dataclass(frozen=True)
class Threshold:
    metric: str
    condition: str  # as written, e.g. "< 2100"
    limit: float

    @property
    def operator(self) -> str:
        match = CONDITION.fullmatch(self.condition)
        assert match  # parse() made it
        return match[1]

    def holds(self, value: float | None) -> bool:
        """Whether a measured value meets the condition; a value that was not measured does not."""
        return value is not None and OPERATORS[self.operator](value, self.limit)


def parse(metric: str, condition: object) -> Threshold:
    """A threshold from a metric's name and its condition; ValueError says what is wrong, in the checker's words."""
    if metric not in METRIC_KEYS:
        raise ValueError(f"unknown metric {metric!r}")
    if isinstance(condition, bool) or not isinstance(condition, str | int | float):
        raise ValueError(f'must be a condition like "< 2100" (<, <=, >, >= or == and a number), got {condition!r}')
    text = str(condition)
    match = CONDITION.fullmatch(text)
    if not match:
        raise ValueError(f'must be a condition like "< 2100" (<, <=, >, >= or == and a number), got {text!r}')
    limit = float(match[2])
    if not math.isfinite(limit):
        raise ValueError(f"must compare with a finite number, got {text!r}")
    return Threshold(metric, f"{match[1]} {match[2]}", limit)


def judge(row: Row, thresholds: tuple[Threshold, ...], fail_on_deviation: float | None = None) -> list[ThresholdCheck]:
    """Every threshold of a scenario judged on its row: with --repeat, on the median run (nearest the median
    RPS), whose numbers belong together; plus, with --fail-on-deviation, each `expected:` number of total
    time and mean latency."""
    judged = row.typical_run() or row
    checks = []
    for threshold in thresholds:
        value = judged.value(threshold.metric)
        checks.append(ThresholdCheck(threshold.metric, threshold.condition, value, threshold.holds(value)))
    if fail_on_deviation is not None:
        for metric in DEVIATION_METRICS:
            expected = row.asked.expected.get(metric)
            if expected is None:
                continue
            value = judged.value(metric)
            condition = f"within {fail_on_deviation:g}% of expected {expected:g}"
            passed = value is not None and abs(value - expected) <= abs(expected) * fail_on_deviation / 100
            checks.append(ThresholdCheck(metric, condition, value, passed))
    return checks


def describe(check: ThresholdCheck) -> str:
    """A breach in words: "mean_latency_ms 2150.3 breaks < 2100"."""
    value = "not measured" if check.value is None else f"{check.value:g}"
    return f"{check.metric} {value} breaks {check.condition}"
