"""The capacity search: the highest rate a booted server serves within the scenario's SLO.

One open-model swarm per step (request i sent at t0 + i/rate, its latency measured from that scheduled time,
locustfiles/open_model.py), one step after another on the same server: the rate doubles from start_rate until
a step fails, then the last passing and the first failing rates are bisected until they are within 5% of each
other. A step passes when every SLO condition holds, at least 95% of the offered rate was achieved, and the
generator kept to its schedule: a locust that fell behind (its sends' lateness p99 above 10 ms, or busy above
90%) measured itself, not the server, so such a step fails and, when it bounds the search, the capacity is
said to be the generator's.
"""

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from djload import headroom, metrics, records, summary, swarm
from djload.capacityspec import CLOSE, LATE_P99_MS, LATENCY_SLO, MIN_ACHIEVED, Capacity
from djload.records import Record
from djload.scenario import Scenario

STEPS_DIR = "steps"  # each step's records and locust log, under the scenario's folder
GENERATOR_RETRIES = 1  # times a step failed by the generator alone is offered again


@dataclass(frozen=True)
class Step:
    """One rate held step_s: what it measured and why it failed ("" when it passed)."""

    offered_rps: float
    achieved_rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    generator_late_ms: float | None  # p99 of how late the sends began against their schedule
    server_cpu_ms_per_request: float | None
    generator_busy_percent: float | None
    why: str  # what failed, in words; "" for a passing step
    # Whether the server failed the step beyond what the generator's lateness explains (see judge).
    server_failed: bool = False
    records: tuple[Record, ...] = ()
    usage: tuple[tuple[str, Any], ...] = ()  # the step's headroom keys

    @property
    def passed(self) -> bool:
        return not self.why

    @property
    def generator_busy(self) -> bool:
        return self.generator_busy_percent is not None and self.generator_busy_percent > headroom.SATURATED * 100

    @property
    def generator_behind(self) -> bool:
        late = self.generator_late_ms is not None and self.generator_late_ms > LATE_P99_MS
        return late or self.generator_busy

    @property
    def generator_limited(self) -> bool:
        """The step failed because of locust: its CPU was saturated (nothing it measured holds), or it sent late
        and the server met the SLO once that lateness is taken off."""
        return not self.passed and (self.generator_busy or self.generator_behind and not self.server_failed)

    def as_json(self) -> dict[str, Any]:
        return {
            "offered_rps": self.offered_rps,
            "achieved_rps": self.achieved_rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "errors": self.errors,
            "generator_late_ms": self.generator_late_ms,
            "server_cpu_ms_per_request": self.server_cpu_ms_per_request,
            "passed": self.passed,
            "why": self.why,
        }


def achieved_rps(recorded: list[Record], offered: float) -> float:
    """Answers per second while the step lasted: the successful answers over the span of their arrivals
    (plus one interval, so that n answers exactly 1/rate apart make the rate). Not over first send → last
    answer, which would count the last request's latency as lost throughput."""
    ends = sorted(r.end for r in recorded if r.ok)
    if not ends:
        return 0.0
    return round(len(ends) / (ends[-1] - ends[0] + 1 / offered), 2)


def judge(capacity: Capacity, offered: float, recorded: list[Record], late_ms: float | None,
          usage: dict[str, Any]) -> Step:  # fmt: skip
    """A step's measurement and verdict."""
    measured = metrics.summarize(recorded) if recorded else {}
    errors = int(measured.get("total_errors") or 0)
    values = {**measured, "error_rate_percent": errors * 100 / len(recorded) if recorded else None}
    why = [
        f"{t.metric} {summary.cell(values.get(t.metric), '{:.4g}')} breaks {t.condition}"
        for t in capacity.slo
        if not t.holds(values.get(t.metric))
    ]
    achieved = achieved_rps(recorded, offered)
    if achieved < MIN_ACHIEVED * offered:
        why.append(f"achieved {achieved:g} of {offered:g} requests/s offered (under {MIN_ACHIEVED:.0%})")
    # The server's part: a latency counts from the scheduled time, so a late send adds its lateness to it, and
    # sends spread late over the step lower the achieved rate by at most lateness / step_s.
    late_s = (late_ms or 0.0) / 1000
    fair = {k: v - late_s * 1000 if k in LATENCY_SLO and v is not None else v for k, v in values.items()}
    server_failed = any(not t.holds(fair.get(t.metric)) for t in capacity.slo) or (
        achieved < MIN_ACHIEVED * offered * capacity.step_s / (capacity.step_s + late_s)
    )
    step = Step(
        offered_rps=offered,
        achieved_rps=achieved,
        p50_ms=_rounded(measured.get("p50_ms")),
        p99_ms=_rounded(measured.get("p99_ms")),
        errors=errors,
        generator_late_ms=_rounded(late_ms),
        server_cpu_ms_per_request=_rounded(usage.get("server_cpu_ms_per_request"), 4),
        generator_busy_percent=usage.get("generator_busy_percent"),
        why="",
        server_failed=server_failed,
        records=tuple(recorded),
        usage=tuple(usage.items()),
    )
    if step.generator_behind:
        why.append(
            f"the generator fell behind its schedule (sends late by {summary.cell(late_ms, '{:.1f}')} ms at p99, "
            f"busy {summary.cell(step.generator_busy_percent, '{:.0f}')}%)"
        )
    return replace(step, why="; ".join(why))


def _rounded(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def next_rate(capacity: Capacity, steps: list[Step]) -> float | None:
    """The rate the search offers next, from the steps so far; None when it is done."""
    passed = [s.offered_rps for s in steps if s.passed]
    failed = [s.offered_rps for s in steps if not s.passed]
    if not steps:
        return capacity.start_rate
    if not failed:
        last = steps[-1].offered_rps
        return None if last >= capacity.max_rate else min(last * 2, capacity.max_rate)
    if not passed:
        return None  # start_rate itself failed: nothing below it is searched
    low, high = max(passed), min(failed)
    if high <= low * CLOSE:
        return None
    return round((low + high) / 2, 2)


def limited_by(capacity: Capacity, steps: list[Step]) -> str:
    failed = [s for s in steps if not s.passed]
    if not failed:
        return "max_rate"
    lowest = min(failed, key=lambda s: s.offered_rps)
    return "generator" if lowest.generator_limited else "slo"


def schedule_late_ms(folder: Path) -> float | None:
    """The p99 lateness the open-model locustfile wrote of its sends (the worst of its processes)."""
    found = []
    for path in folder.glob("schedule-*.json"):
        try:
            found.append(float(json.loads(path.read_text())["late_ms_p99"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return max(found) if found else None


def step_scenario(scenario: Scenario, rate: float, step_s: float) -> Scenario:
    """The scenario's swarm as one open-model step: rate for step_s, swarm.users connections at most."""
    step = replace(scenario.swarm, model="open", rate=rate, duration_s=step_s, requests_per_user=1, warmup=0,
                   user_class="fast", processes=1, reference=None)  # fmt: skip
    return replace(scenario, swarm=step)


def say(scenario: Scenario, n: int, step: Step) -> None:
    verdict = "passed" if step.passed else f"failed: {step.why}"
    print(f"  {scenario.name}: step {n}: {step.offered_rps:g} requests/s offered, {step.achieved_rps:g} achieved, "
          f"p99 {summary.cell(step.p99_ms, '{:.1f}')} ms: {verdict}", file=sys.stderr)  # fmt: skip


def search(scenario: Scenario, host: str, out_dir: Path, monitor: headroom.Monitor,
           run_step: Callable[[swarm.SwarmSpec], list[Record] | None], steps: list[Step]) -> None:  # fmt: skip
    """Every step of the search into steps, in the order offered (so that an interruption keeps those done).
    run_step runs one step's swarm (swarm.run, with the server watched) and returns its records, or None when
    the search must end there (the server died)."""
    capacity = scenario.capacity
    assert capacity is not None
    offered = 0  # steps run, a repeated one included: each has its own folder
    while (rate := next_rate(capacity, steps)) is not None:
        for attempt in range(1 + GENERATOR_RETRIES):
            offered += 1
            folder = out_dir / STEPS_DIR / f"step-{offered:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            spec = swarm.SwarmSpec(step_scenario(scenario, rate, capacity.step_s), host, folder)
            recorded = run_step(spec)
            if recorded is None:
                return
            usage: dict[str, Any] = {}
            if recorded:
                start, end = metrics.span(recorded)
                cpus = len(scenario.cpus.generator) or None
                usage = headroom.usage(monitor, start, end, len(recorded), cpus)
            step = judge(capacity, rate, recorded, schedule_late_ms(folder), usage)
            say(scenario, offered, step)
            if not step.generator_limited or attempt == GENERATOR_RETRIES:
                break
            # A generator that fell behind once, with a server that met the SLO, was often a neighbour's burst
            # on a shared machine: the rate is offered again, and the search goes on from the second answer.
            print(f"  {scenario.name}: step {offered}: offered again: the generator, not the server, failed it",
                  file=sys.stderr)  # fmt: skip
        steps.append(step)


def at_capacity(steps: list[Step]) -> Step | None:
    """The passing step of the highest rate: the row's measurement."""
    passed = [s for s in steps if s.passed]
    return max(passed, key=lambda s: s.offered_rps) if passed else None


def fill(row: summary.Row, scenario: Scenario, steps: list[Step], out_dir: Path) -> Step | None:
    """The row's search keys from the steps; the step at capacity's records become the scenario's requests.csv.
    Returns that step (None when no rate passed)."""
    capacity = scenario.capacity
    assert capacity is not None
    best = at_capacity(steps)
    row.search.update(
        {
            "capacity_rps": best.offered_rps if best else None,
            "capacity_limited_by": limited_by(capacity, steps) if steps else None,
            "capacity_steps": [step.as_json() for step in steps],
            "capacity_slo": capacity.slo_json(),
        }
    )
    if best:
        records.write(out_dir / "requests.csv", list(best.records))
    return best
