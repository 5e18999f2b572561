"""A scenario's `capacity:` section: the SLO a rate must meet, and the bounds of the search for the highest one.

    capacity:
      slo: {p99_ms: "< 250"}       # conditions as thresholds are written; error_rate_percent defaults to "<= 0.1"
      max_rate: 3000               # requests/s never offered above this
      step_s: 2                    # seconds each rate is held
      start_rate: 10               # the first rate offered

The search (djload.capacity) owns the load: the swarm gives only the connections (`users`), its timeout and
its warm-up. The rates it may offer are known from these fields alone, so the worst case (every step it can
take, each held step_s) is counted in the scenario's cost before anything boots.
"""

import math
from dataclasses import dataclass

from djload.thresholds import Threshold, condition_of, did_you_mean
from djload.yamlcheck import Checker, Map, between, positive, shown_text

KEYS = ("slo", "max_rate", "step_s", "start_rate")
# What a step measures that an SLO may hold: its latency distribution and its failed share.
LATENCY_SLO = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_latency_ms")
SLO_METRICS = (*LATENCY_SLO, "error_rate_percent")
DEFAULT_ERROR_RATE = "<= 0.1"
DEFAULT_START_RATE = 10.0
DEFAULT_STEP_S = 5.0
MIN_STEP_S, MAX_STEP_S = 1.0, 60.0
MAX_RATE = 100_000.0  # requests/s: far beyond what one locust process sends; catches an extra zero or three
CLOSE = 1.05  # the bisection stops when the first failing rate is within 5% of the last passing one
# Halvings of the gap between a passing rate and the failing one at most its double: 2^-5 < 5%.
MAX_BISECTIONS = math.ceil(math.log2(1 / (CLOSE - 1)))
# A step's swarm must keep its schedule: a send later than this (p99) means the generator fell behind.
LATE_P99_MS = 10.0
MIN_ACHIEVED = 0.95  # of the offered rate
# Swarm keys the search decides itself: a scenario that gives them asks two things at once.
OWNED_SWARM_KEYS = ("requests_per_user", "duration", "model", "rate")


@dataclass(frozen=True)
class Capacity:
    slo: tuple[Threshold, ...]
    max_rate: float
    step_s: float = DEFAULT_STEP_S
    start_rate: float = DEFAULT_START_RATE

    def doubling(self) -> list[float]:
        """The rates the search offers first: start_rate doubled until max_rate, which is offered last."""
        rates, rate = [], self.start_rate
        while rate < self.max_rate:
            rates.append(rate)
            rate *= 2
        return [*rates, self.max_rate]

    @property
    def most_steps(self) -> int:
        return len(self.doubling()) + MAX_BISECTIONS

    @property
    def most_requests(self) -> int:
        """Every rate of the doubling, and each bisection at most at max_rate: an upper bound of what it sends."""
        return math.ceil((sum(self.doubling()) + MAX_BISECTIONS * self.max_rate) * self.step_s)

    @property
    def most_s(self) -> float:
        """The steps' sending time at most; each step's last answers and locust's start come on top."""
        return self.most_steps * self.step_s

    def slo_json(self) -> dict[str, str]:
        return {threshold.metric: threshold.condition for threshold in self.slo}


def _slo(checker: Checker, section: Map, line: int) -> tuple[Threshold, ...]:
    where = "capacity.slo"
    if "slo" not in section:
        checker.problem(line, where, 'missing; the search needs an SLO, e.g. slo: {p99_ms: "< 250"}')
        return ()
    slo = checker.mapping(section["slo"], section.key_lines["slo"], where)
    if slo is None:
        return ()
    if not slo:
        checker.problem(section.key_lines["slo"], where, 'empty; give at least one condition, e.g. p99_ms: "< 250"')
    found: list[Threshold] = []
    for metric, condition in slo.items():
        line, name = slo.key_lines[metric], f"{where}.{shown_text(str(metric))}"
        if metric not in SLO_METRICS:
            checker.problem(line, name, f"unknown metric; {did_you_mean(str(metric), SLO_METRICS)}")
            continue
        try:
            found.append(condition_of(str(metric), condition))
        except ValueError as exc:
            checker.problem(line, name, shown_text(str(exc), 160))
    if "error_rate_percent" not in slo:
        found.append(condition_of("error_rate_percent", DEFAULT_ERROR_RATE))
    return tuple(found)


def parse(checker: Checker, data: Map, swarm: Map | None) -> Capacity | None:
    """The `capacity:` section of a scenario's fields, every problem said with its line; None when one is wrong."""
    section = checker.mapping(data["capacity"], data.key_lines["capacity"], "capacity")
    if section is None:
        return None
    problems = len(checker.problems)
    checker.known_keys(section, KEYS, "capacity.")
    slo = _slo(checker, section, data.key_lines["capacity"])
    max_rate = checker.get(section, "max_rate", float, "capacity.", check=positive(MAX_RATE))
    step_s = checker.get(section, "step_s", float, "capacity.", default=DEFAULT_STEP_S,
                         check=between(MIN_STEP_S, MAX_STEP_S))  # fmt: skip
    start_rate = checker.get(section, "start_rate", float, "capacity.", default=DEFAULT_START_RATE,
                             check=positive(MAX_RATE))  # fmt: skip
    if max_rate is not None and start_rate is not None and max_rate <= start_rate:
        checker.problem(section.key_lines["max_rate"], "capacity.max_rate",
                        f"must be above start_rate ({start_rate:g}), got {max_rate:g}")  # fmt: skip
    for key in OWNED_SWARM_KEYS:
        if swarm is not None and key in swarm:
            checker.problem(swarm.key_lines[key], f"swarm.{key}", "the capacity search decides the load (open-model "
                            "rate steps); remove it, swarm.users gives the connections")  # fmt: skip
    if len(checker.problems) > problems:
        return None
    return Capacity(slo, max_rate, step_s, start_rate)
