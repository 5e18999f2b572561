"""Thresholds: conditions on a run's metrics that decide whether it passes, as CI wants it (exit code 4).

A scenario's ``thresholds:`` maps a summary metric to a condition, e.g. ``mean_latency_ms: "< 2100"``.
Each is judged on the summary row (with --repeat, on the median run) and recorded in the row's
``thresholds`` list. A request mix's entries have their own metrics, named
``by_request[<path>].<metric>`` (or ``by_request[<METHOD> <path>]`` where the mix sends two methods to one
path). ``--fail-on-deviation PCT`` adds one more kind: total time and mean latency within PCT % of the
scenario's ``expected:`` numbers.
"""

import difflib
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from djload.metrics import BY_REQUEST_METRICS
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
# by_request[<entry>].<metric>: greedy up to the last "].", so that a path's query may hold brackets.
PER_REQUEST = re.compile(r"by_request\[(?P<entry>.*)\]\.(?P<metric>[^.]*)")


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


def did_you_mean(value: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    return f"did you mean '{close[0]}'?" if close else "one of " + ", ".join(choices)


def _check_per_request(entry: str, metric: str, mix: Sequence[tuple[str, str]] | None) -> None:
    """That a mix's entry and its metric exist: entry is a path of the mix, or "METHOD path"."""
    if metric not in BY_REQUEST_METRICS:
        raise ValueError(f"unknown metric {metric!r} of a request; {did_you_mean(metric, BY_REQUEST_METRICS)}")
    if mix is None:
        return  # the mix itself has problems, said where it is written
    if not mix:
        raise ValueError("only a mix (requests:) has per-request metrics; this scenario sends to one endpoint")
    labels = [f"{method} {path}" for method, path in mix]
    methods = [method for method, path in mix if path == entry]
    if entry in labels or len(methods) == 1:
        return
    if methods:
        raise ValueError(f"the mix sends {' and '.join(methods)} to {entry}: name one, e.g. 'by_request[{methods[-1]} "
                         f"{entry}]'")  # fmt: skip
    paths = list(dict.fromkeys(path for _, path in mix))
    raise ValueError(f"unknown request {entry!r} of the mix; {did_you_mean(entry, paths + labels)}")


def parse(metric: str, condition: object, mix: Sequence[tuple[str, str]] | None = None) -> Threshold:
    """A threshold from a metric's name and its condition; ValueError says what is wrong, in the checker's words.
    mix: the scenario's requests as (method, path), which per-request metrics name; None when not known."""
    per_request = PER_REQUEST.fullmatch(metric)
    if per_request:
        _check_per_request(per_request["entry"], per_request["metric"], mix)
    elif metric not in METRIC_KEYS:
        raise ValueError(f"unknown key; {did_you_mean(metric, [*METRIC_KEYS, 'by_request[<path>].<metric>'])}")
    return condition_of(metric, condition)


def condition_of(metric: str, condition: object) -> Threshold:
    """A condition ("< 2100") on a metric whose name the caller has checked; ValueError when it is no condition.
    Shared by thresholds and the capacity search's SLO, which are written alike."""
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


def measured(row: Row, metric: str) -> Any:
    """A metric's value in a row: a summary key, or an entry's metric of a mix (None when not measured)."""
    per_request = PER_REQUEST.fullmatch(metric)
    if not per_request:
        return row.value(metric)
    entry, key = per_request["entry"], per_request["metric"]
    for measured_entry in row.measured.by_request or []:
        if entry in (measured_entry.get("path"), f"{measured_entry.get('method')} {measured_entry.get('path')}"):
            return measured_entry.get(key)
    return None


def judge(row: Row, thresholds: tuple[Threshold, ...], fail_on_deviation: float | None = None) -> list[ThresholdCheck]:
    """Every threshold of a scenario judged on its row: with --repeat, on the median run (nearest the median
    RPS), whose numbers belong together; plus, with --fail-on-deviation, each `expected:` number of total
    time and mean latency."""
    judged = row.typical_run() or row
    checks = []
    for threshold in thresholds:
        value = measured(judged, threshold.metric)
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
