"""`djload compare OLD NEW`: two results folders side by side, scenario by scenario, with significance.

Scenarios are paired by name. For each pair: total time, mean latency, p99, effective RPS and server CPU
per request, old → new, the change in percent, and a verdict. Where both sides ran a scenario with
--repeat ≥ 3, each metric's significance comes from the runs' spread (Welch's t-test); otherwise from
the per-request latencies of the two runs (Mann-Whitney U test), which stands for every metric of
the pair because they all come from those requests. Before the table: every reason the two runs may
not be comparable, read from their metadata.
"""

from dataclasses import dataclass, field
from pathlib import Path

from djload import records, summary
from djload.metrics import deviation
from djload.significance import Test, mann_whitney_u, welch_t
from djload.summary import METRICS, Metric, Row, percent

COMPARED_KEYS = ("total_time_s", "mean_latency_ms", "p99_ms", "effective_rps", "server_cpu_ms_per_request",
                 "server_memory_mib")  # fmt: skip
# Not from the requests: their latencies' test says nothing of it; only a --repeat's runs test it.
NOT_FROM_REQUESTS = frozenset({"server_memory_mib"})
COMPARED = tuple(METRICS[key] for key in COMPARED_KEYS)
HIGHER_IS_BETTER = frozenset({"effective_rps"})
# What makes a scenario slower, for the verdict and --max-regression.
REGRESSION_KEYS = ("mean_latency_ms", "total_time_s", "effective_rps")
MIN_REPEATS = 3  # runs per side before the runs' spread is used instead of the requests
# Facts of the machine and software that make two runs incomparable when they differ.
SOFTWARE = ("django", "gunicorn", "uvicorn", "uvicorn-worker", "locust", "djload")
MACHINE = (("python", "Python"), ("cpu_model", "CPU model"), ("cpu_count", "CPU count"),
           ("cpus_available", "CPUs available"))  # fmt: skip
# Asked fields that do not change a run; and the digest of the rest of the scenario, said in words below.
NOT_SETTINGS = frozenset({"description", "source", "matrix", "overrides", "scenario_digest", "diagnosis"})


@dataclass(frozen=True)
class Change:
    metric: Metric
    old: float | None
    new: float | None
    test: Test | None  # None: nothing to test (a value missing on one side)

    @property
    def relative(self) -> float | None:
        return deviation(self.new, self.old)

    @property
    def worse(self) -> bool:
        change = self.relative
        if change is None:
            return False
        return change < 0 if self.metric.key in HIGHER_IS_BETTER else change > 0

    @property
    def significant(self) -> bool:
        return self.test is not None and self.test.significant and self.relative not in (None, 0.0)

    def cell(self) -> str:
        change = percent(self.new, self.old, missing="")
        return f"{self.metric.cell(self.old)} → {self.metric.cell(self.new)}" + (f" ({change})" if change else "")


@dataclass
class Pair:
    name: str
    old: Row
    new: Row
    changes: list[Change]
    test: Test | None  # the test the verdict rests on, as stated in the output
    warnings: list[str] = field(default_factory=list)

    def regressions(self, max_regression: float) -> list[Change]:
        """Significant changes for the worse, by more than max_regression percent, in what makes it slower."""
        return [
            change
            for change in self.changes
            if change.metric.key in REGRESSION_KEYS
            and change.worse
            and change.significant
            and abs(change.relative or 0.0) * 100 > max_regression
        ]

    @property
    def verdict(self) -> str:
        decisive = [c for c in self.changes if c.metric.key in REGRESSION_KEYS and c.significant]
        worse, better = any(c.worse for c in decisive), any(not c.worse for c in decisive)
        if worse and better:
            return "mixed"
        return "slower" if worse else "faster" if better else "no significant change"


@dataclass
class Comparison:
    old: Path
    new: Path
    pairs: list[Pair]
    only_old: list[str]
    only_new: list[str]
    warnings: list[str]  # about the runs as a whole

    def regressions(self, max_regression: float) -> list[tuple[Pair, Change]]:
        return [(pair, change) for pair in self.pairs for change in pair.regressions(max_regression)]


def _latencies(folder: Path, row: Row) -> list[float]:
    path = summary.records_folder(folder, row) / "requests.csv"
    return [record.latency_ms for record in records.read(path)] if path.is_file() else []


def _values(row: Row, key: str) -> list[float]:
    return [float(value) for run in row.runs() if (value := run.value(key)) is not None]


def pair(name: str, old: Row, new: Row, old_folder: Path, new_folder: Path) -> Pair:
    repeated = len(old.runs()) >= MIN_REPEATS and len(new.runs()) >= MIN_REPEATS and old.repeated and new.repeated
    old_latencies = [] if repeated else _latencies(old_folder, old)
    new_latencies = [] if repeated else _latencies(new_folder, new)
    # Without records on both sides there is nothing to test: every change is then not significant.
    requests = mann_whitney_u(old_latencies, new_latencies) if old_latencies and new_latencies else None
    latency = Change(METRICS["mean_latency_ms"], old.measured.mean_latency_ms, new.measured.mean_latency_ms, None)
    changes = []
    for metric in COMPARED:
        before, after = old.value(metric.key), new.value(metric.key)
        test = requests
        if repeated:
            test = welch_t(_values(old, metric.key), _values(new, metric.key))
        elif metric.key in NOT_FROM_REQUESTS:
            test = None
        elif Change(metric, before, after, None).worse != latency.worse:
            # The requests' test says which way the latencies moved; a metric that moved the other way
            # (by chance, or for another reason) is not made significant by it.
            test = None
        changes.append(Change(metric, before, after, test if before is not None and after is not None else None))
    # The verdict's test as the output states it: the requests' test, or that of the runs' mean latency.
    main_test = next(c.test for c in changes if c.metric.key == "mean_latency_ms") if repeated else requests
    return Pair(name, old, new, changes, main_test, _pair_warnings(old, new))


def _pair_warnings(old: Row, new: Row) -> list[str]:
    found = []
    before, after = old.asked.to_json(), new.asked.to_json()
    settings = [f"{key} {before.get(key)!r} → {after.get(key)!r}" for key in before
                if key not in NOT_SETTINGS and before.get(key) != after.get(key)]  # fmt: skip
    if settings:
        found.append(f"{old.name}: the scenario differs: {', '.join(settings)}")
    elif (
        old.asked.scenario_digest
        and new.asked.scenario_digest
        and old.asked.scenario_digest != new.asked.scenario_digest
    ):
        found.append(f"{old.name}: the scenario files differ in what they ask beyond the table's settings "
                     "(a request's body, headers or status, the swarm's or the database's other settings)")  # fmt: skip
    if old.facts.cpu_placement != new.facts.cpu_placement:
        found.append(f"{old.name}: CPU placement {old.facts.cpu_placement} → {new.facts.cpu_placement}")
    return found


def _run_warnings(old: list[Row], new: list[Row]) -> list[str]:
    if not old or not new:
        return []
    before, after = old[0].facts.machine, new[0].facts.machine
    found = []
    versions_before, versions_after = before.get("versions") or {}, after.get("versions") or {}
    for package in SOFTWARE:
        if versions_before.get(package) != versions_after.get(package):
            found.append(f"{package} {versions_before.get(package, '?')} → {versions_after.get(package, '?')}")
    for key, label in MACHINE:
        if before.get(key) != after.get(key):
            found.append(f"{label} {before.get(key, '?')} → {after.get(key, '?')}")
    return found


def compare(old_folder: Path, new_folder: Path) -> Comparison:
    """The two folders' scenarios paired by name; SummaryError when a folder holds no readable summary."""
    old_rows = summary.read_folder(old_folder)
    new_rows = summary.read_folder(new_folder)
    old_by_name, new_by_name = {r.name: r for r in old_rows}, {r.name: r for r in new_rows}
    pairs = [pair(name, row, new_by_name[name], old_folder, new_folder)
             for name, row in old_by_name.items() if name in new_by_name]  # fmt: skip
    return Comparison(
        old_folder,
        new_folder,
        pairs,
        only_old=[name for name in old_by_name if name not in new_by_name],
        only_new=[name for name in new_by_name if name not in old_by_name],
        warnings=_run_warnings(old_rows, new_rows),
    )


def table(comparison: Comparison) -> list[list[str]]:
    """The comparison's rows: a header, then one row per scenario."""
    rows = [["scenario"] + [metric.column for metric in COMPARED] + ["verdict"]]
    for item in comparison.pairs:
        rows.append([item.name] + [change.cell() for change in item.changes] + [item.verdict])
    return rows


def text(comparison: Comparison, max_regression: float) -> str:
    """What `djload compare` prints: warnings, the table, each verdict's test, one-sided scenarios, regressions."""
    lines = [f"old: {comparison.old}", f"new: {comparison.new}"]
    warnings = [f"WARNING: not comparable: {w}" for w in comparison.warnings]
    warnings += [f"WARNING: not comparable: {w}" for item in comparison.pairs for w in item.warnings]
    lines += warnings
    rows = table(comparison)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["", *("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows), ""]
    for item in comparison.pairs:
        lines.append(f"{item.name}: {item.verdict}; " + (item.test.describe() if item.test else "no test: "
                     "a side has no per-request records"))  # fmt: skip
    for name in comparison.only_old:
        lines.append(f"{name}: only in old")
    for name in comparison.only_new:
        lines.append(f"{name}: only in new")
    for item, change in comparison.regressions(max_regression):
        lines.append(
            f"REGRESSION: {item.name}: {change.metric.label} {percent(change.new, change.old)} "
            f"(more than {max_regression:g}%, significant)"
        )
    return "\n".join(lines)
