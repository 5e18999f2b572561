"""The summary row: one scenario's result, defined once, as typed parts, in a versioned JSON format.

summary.json is a JSON list of rows. A row is flat in JSON (every key a reader knew stays where it was)
and typed in Python: what was asked, the facts of the run (machine, software, commands), the
measurement, the ideal, the load generator's headroom and the status, plus the runs of a --repeat.
Every writer (`djload run`, the web UI) builds a Row and every reader (the terminal table, the report,
the web UI, `compare`) reads one, so a key is spelled in one place: a field name here.

Also here: the slide's metrics, declared once (key, the slide's label, a column title, a format), and
the three small rules every reader shares: a cell's text, a percent deviation, the run nearest the median.
"""

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from djload import diagnosis, metrics, plausible
from djload.layout import SUMMARY_JSON as SUMMARY_JSON  # readers and writers name it from here
from djload.layout import name_problem
from djload.masking import masked
from djload.sites import BUNDLED

if TYPE_CHECKING:  # the scenario's checker reads the metric names from here: no import cycle at run time
    from djload.scenario import Scenario

SCHEMA_VERSION = 1
STATUSES = ("completed", "failed", "boot_failed", "interrupted")


class SummaryError(Exception):
    """A summary.json that cannot be read as rows: missing, not JSON, or a field of the wrong type."""


# ---- the slide's metrics, declared once ---------------------------------------------------------------


def cell(value: Any, fmt: str) -> str:
    """A number as a table shows it; "-" for a number that is not known."""
    return "-" if value is None else fmt.format(value)


def percent(measured: Any, reference: Any, missing: str = "-") -> str:
    """A deviation as text, e.g. "+1.5%"; missing when there is none."""
    change = metrics.deviation(measured, reference)
    return missing if change is None else f"{change * 100:+.1f}%"


@dataclass(frozen=True)
class Metric:
    key: str  # the summary row's key
    label: str  # as the talk's slide says it
    column: str  # a short column title for tables
    fmt: str

    def cell(self, value: Any) -> str:
        return cell(value, self.fmt)


SLIDE_METRICS = (
    Metric("completed_requests", "Completed requests", "completed", "{:.0f}"),
    Metric("total_errors", "Total errors", "errors", "{:.0f}"),
    Metric("total_time_s", "Total time", "total time", "{:.3f} s"),
    Metric("mean_latency_ms", "Mean latency", "mean latency", "{:.1f} ms"),
    Metric("effective_rps", "Effective RPS", "RPS", "{:.2f}"),
)
# Trust columns: the server's cost per request and how busy the load generator was.
HEADROOM_METRICS = (
    Metric("server_cpu_ms_per_request", "Server CPU per request", "server CPU/req", "{:.3f} ms"),
    Metric("generator_busy_percent", "Load generator busy", "generator", "{:.0f}% busy"),
    # What the server's process tree held at its peak (djload.memory): what decides how many workers fit.
    Metric("server_memory_mib", "Server memory", "memory", "{:.0f} MiB"),
)
MEMORY_PER_WORKER = Metric("server_memory_mib_per_worker", "Server memory per worker", "memory/worker", "{:.1f} MiB")
# ---- the metrics a threshold or a comparison may name: every number a run measures ------------------


def _numbers(part: type["Part"]) -> tuple[str, ...]:
    hints = typing.get_type_hints(part)
    return tuple(name for name in part.field_names() if hints[name] in (int | None, float | None))


# The latency distribution, from the exact per-request records.
LATENCY_METRICS = (
    Metric("min_ms", "Min latency", "min", "{:.1f} ms"),
    Metric("p50_ms", "Median latency", "p50", "{:.1f} ms"),
    Metric("p90_ms", "p90 latency", "p90", "{:.1f} ms"),
    Metric("p95_ms", "p95 latency", "p95", "{:.1f} ms"),
    Metric("p99_ms", "p99 latency", "p99", "{:.1f} ms"),
    Metric("p999_ms", "p99.9 latency", "p99.9", "{:.1f} ms"),
    Metric("max_ms", "Max latency", "max", "{:.1f} ms"),
)
METRICS = {metric.key: metric for metric in SLIDE_METRICS + HEADROOM_METRICS + LATENCY_METRICS + (MEMORY_PER_WORKER,)}
# The slide numbers that physics fixes, compared with the talk's in percent; the others are compared by eye.
COMPARED = ("total_time_s", "mean_latency_ms")


# ---- checking JSON values against the fields' types ---------------------------------------------------


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's type (list and dict element types are checked one level)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_fits(value, option) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:  # JSON writes 2.0 as 2.0, but a hand-written file may say 2
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is dict or hint is dict:
        args = typing.get_args(hint)
        return isinstance(value, dict) and (not args or all(_fits(v, args[1]) for v in value.values()))
    raise TypeError(f"no JSON check for {hint!r}")  # a field type this module does not know


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


class Part:
    """A group of a row's fields: read from and written to the row's flat JSON object."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()  # keys that only some rows have

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> Self:
        hints = typing.get_type_hints(cls)
        values = {}
        for name in cls.field_names():
            if name not in data:
                continue  # an older file: the field's default
            value = data[name]
            if not _fits(value, hints[name]):
                raise SummaryError(
                    f"{where}: {name}: expected {_type_name(hints[name])}, got {type(value).__name__} {value!r:.60}"
                )
            if wrong := plausible.problem(name, value):
                raise SummaryError(f"{where}: {wrong}")
            values[name] = value
        try:
            return cls(**values)
        except TypeError:
            missing = [name for name in cls.field_names() if name not in data]
            raise SummaryError(f"{where}: missing {', '.join(missing)}") from None

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.field_names()}
        return {k: v for k, v in data.items() if not (v is None and k in self.OMIT_WHEN_NONE)}

    def update(self, values: Mapping[str, Any]) -> None:
        """Set fields from a computation's dict; a key that is no field is a bug, caught here."""
        unknown = set(values) - set(self.field_names())
        if unknown:
            raise KeyError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        for name, value in values.items():
            setattr(self, name, value)


# ---- the row's parts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked(Part):
    """What the scenario asked for."""

    OMIT_WHEN_NONE = frozenset({"matrix", "scenario_digest", "diagnosis"})

    scenario: str
    description: str = ""
    source: str = ""
    server_mode: str = ""
    workers: int = 1
    threads: int = 1
    endpoint: str = ""
    sleep_s: float = 0.0
    model: str = "closed"
    user_class: str = "http"
    users: int = 0
    requests_per_user: int = 1
    duration_s: float | None = None
    rate: float | None = None
    locust_processes: int = 1
    expected_requests: int | None = None
    expected: dict[str, float] = field(default_factory=dict)  # the talk's numbers, where the scenario has them
    matrix: dict[str, Any] | None = None  # a matrix scenario's group and its axes' values
    # The site it loaded (sites.Site.label): what its paths mean. A row written before rows said so is
    # the bundled site's, the only site there was.
    site: str = BUNDLED.name
    spawn_rate: float = 0.0  # users started per second; 0: all at once
    overrides: dict[str, float] = field(default_factory=dict)  # what `djload run --users` etc. changed
    # A digest of all that the scenario asks a run to do, beyond the fields above (a mix's bodies, headers
    # and statuses, the swarm's and the database's other settings): `compare` warns when two differ.
    scenario_digest: str | None = None
    # What the mode will cost and what will fail for the site's settings and views, known before the run
    # (djload.diagnosis): a user's project's adapted middleware, its views' kinds, its warnings.
    diagnosis: dict[str, Any] | None = None

    @classmethod
    def of(cls, scenario: "Scenario") -> "Asked":
        return cls(
            scenario=scenario.name,
            description=scenario.description,
            source=scenario.source,
            server_mode=scenario.server.mode,
            workers=scenario.server.workers,
            threads=scenario.server.threads,
            endpoint=scenario.endpoint_label,
            sleep_s=scenario.sleep,
            model=scenario.swarm.model,
            user_class=scenario.swarm.user_class,
            users=scenario.swarm.users,
            requests_per_user=scenario.swarm.requests_per_user,
            duration_s=scenario.swarm.duration_s,
            rate=scenario.swarm.rate,
            locust_processes=scenario.swarm.processes,
            # A capacity search's count is its steps' rates × step_s, known only as it goes.
            expected_requests=None if scenario.capacity else scenario.swarm.total_requests,
            expected=dict(scenario.expected),
            matrix={"group": scenario.group, "values": dict(scenario.matrix)} if scenario.matrix else None,
            site=scenario.site.label,
            spawn_rate=scenario.swarm.spawn_rate,
            diagnosis=diagnosis.of_scenario(
                scenario.site, scenario.server.mode, [r.path for r in scenario.requests] or [scenario.endpoint.url_path]
            ),
            scenario_digest=_digest(
                {
                    "server": scenario.server,
                    "endpoint": scenario.endpoint,
                    "requests": [request.shown for request in scenario.requests],  # no secret, even hashed
                    "login": scenario.login,  # its accounts' names; a password is no compared field
                    "sleep": scenario.sleep,
                    "swarm": scenario.swarm,
                    "database": dataclasses.replace(scenario.database, url=masked(scenario.database.url or "")),
                    # A user's locustfile is part of what ran: its text (absent otherwise, as digests were).
                    **(
                        {"locustfile": hashlib.sha256(scenario.locustfile.path.read_bytes()).hexdigest()}
                        if scenario.locustfile
                        else {}
                    ),
                }  # fmt: skip
            ),
        )


def _plain(value: Any) -> Any:
    """A scenario's part as JSON values: a dataclass's compared fields (not where a file says them), in order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _digest(parts: dict[str, Any]) -> str:
    text = json.dumps(_plain(parts), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Facts(Part):
    """The facts needed to trust or repeat a run: machine and software, placement, start, commands."""

    OMIT_WHEN_NONE = frozenset({"target"})
    # Written inside "metadata" too, beside the machine's facts, so that one object holds them all.
    IN_METADATA: ClassVar[tuple[str, ...]] = ("started_at", "cpu_placement", "server_command", "locust_command")

    started_at: str = ""
    cpu_placement: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)  # results.machine_metadata(); "metadata" in JSON
    server_command: list[str] | None = None
    locust_command: list[str] | None = None
    boot_s: float | None = None
    warmup_requests: int | None = None
    target: str | None = None  # the URL of a site already running (--target), when one was used
    # {"engine": "postgresql" | "sqlite", "version", "pool", "conn_max_age"} (djload.database.DatabaseInfo)
    database: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> Self:
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise SummaryError(f"{where}: metadata: expected dict, got {type(metadata).__name__}")
        machine = {k: v for k, v in metadata.items() if k not in cls.IN_METADATA}
        return super().from_json({**data, "machine": machine}, where)

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        machine = data.pop("machine")
        data["metadata"] = {**machine, **{key: data[key] for key in self.IN_METADATA}}
        return data


@dataclass
class Measurement(Part):
    """What the per-request records say (djload.metrics), and the server's log (djload.serverlog)."""

    OMIT_WHEN_NONE = frozenset({"by_request", "login"})

    completed_requests: int | None = None
    total_errors: int | None = None
    total_time_s: float | None = None
    mean_latency_ms: float | None = None
    effective_rps: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    mean_queue_ms: float | None = None
    p90_queue_ms: float | None = None
    mean_service_ms: float | None = None
    view_threads: int | None = None
    view_workers: int | None = None
    requests_per_worker: list[int] | None = None
    peak_in_view: int | None = None
    log_views_started: int | None = None
    log_distinct_threads: int | None = None
    log_distinct_workers: int | None = None
    log_peak_in_view: int | None = None
    latency_histogram: dict[str, Any] | None = None
    # A mix's metrics per entry of `requests:` (djload.metrics.by_request); absent for a single endpoint.
    by_request: list[dict[str, Any]] | None = None
    # A scenario's `login:`: {"users": users signed in, "mean_ms": a sign-in's mean time (its GET and POST),
    # "failures": each failed sign-in, which account and what the server answered}. Not in the metrics.
    login: dict[str, Any] | None = None


@dataclass
class Ideal(Part):
    """The queueing model's run for the sleeping views (djload.ideal); None where there is no model."""

    ideal_total_time_s: float | None = None
    ideal_mean_latency_ms: float | None = None
    ideal_slots: int | None = None
    ideal_rule: str = ""
    deviates_from_ideal: bool | None = None
    ideal_total_time_given_spread_s: float | None = None


@dataclass
class Headroom(Part):
    """CPU used by the load generator and the server during the run (djload.headroom)."""

    generator_cpu_percent: float | None = None
    generator_busy_percent: float | None = None
    generator_capacity_cpus: int | None = None
    generator_bound: bool = False
    server_cpu_percent: float | None = None
    server_cpu_ms_per_request: float | None = None
    # The server's process tree at its peak in the window, Pss summed (djload.memory); None before rows had it.
    server_memory_mib: float | None = None
    server_memory_mib_per_worker: float | None = None
    # swarm.reference / --reference: the tool run against the same server right after the swarm, its RPS
    # with the swarm's connections, duration and CPUs, and its command line (djload.reference).
    reference_tool: str | None = None
    reference_rps: float | None = None
    reference_command: list[str] | None = None


@dataclass
class Search(Part):
    """A `capacity:` scenario's search (djload.capacity): the highest rate that met the SLO, what stopped the
    search there (slo, max_rate or generator), and every step offered; absent from other rows."""

    OMIT_WHEN_NONE = frozenset({"capacity_rps", "capacity_limited_by", "capacity_steps", "capacity_slo"})

    capacity_rps: float | None = None
    capacity_limited_by: str | None = None
    # [{offered_rps, achieved_rps, p50_ms, p99_ms, errors, generator_late_ms, server_cpu_ms_per_request, passed}]
    capacity_steps: list[dict[str, Any]] | None = None
    capacity_slo: dict[str, str] | None = None  # the SLO each step was judged on, as written


@dataclass
class Status(Part):
    status: str = "interrupted"  # until the run says otherwise: a killed run's row is marked
    problem: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> Self:
        status = super().from_json(data, where)
        if status.status not in STATUSES:
            raise SummaryError(f"{where}: status: expected one of {', '.join(STATUSES)}, got {status.status!r}")
        return status

    @classmethod
    def judged(
        cls, recorded: int, failed: int, expected: int | None, server_death: str = "", cause: str = ""
    ) -> "Status":
        """A run's status from its counts: completed only when every expected request was recorded, none
        failed and the server lived to the end (server_death says how it or what it needs died otherwise).
        cause: the failures' most common error (djload.cause), which the first line names."""
        if server_death:
            said = f" with {cause}" if failed and cause else ""
            of = f" of {expected}" if expected is not None else ""  # a run for a duration expects no count
            return cls("failed", f"{server_death}; {recorded}{of} requests recorded, {failed} failed{said}")
        if expected is not None and recorded != expected:
            return cls("failed", f"{recorded} of {expected} requests recorded")
        if not recorded:
            return cls("failed", "no request was recorded")
        if failed:
            return cls("failed", f"{failed} requests failed" + (f": {cause}" if cause else ""))
        return cls("completed", "")


@dataclass(frozen=True)
class ThresholdCheck(Part):
    """One threshold judged on a run: the metric, the condition as written, the value measured, and whether
    the value meets it (an unmeasured value does not)."""

    metric: str
    condition: str
    value: float | None
    passed: bool


@dataclass
class Repeat(Part):
    """A --repeat: the rows of its runs, and each repeated metric's spread (its median is the row's value)."""

    runs: list[Any] = field(default_factory=list)  # list[Row]; JSON: a list of row objects
    spread: dict[str, dict[str, float]] = field(default_factory=dict)
    unstable: list[str] = field(default_factory=list)
    repeat: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> Self:
        part = super().from_json({k: v for k, v in data.items() if k != "runs"}, where)
        runs = data.get("runs") or []
        if not isinstance(runs, list) or not all(isinstance(run, dict) for run in runs):
            raise SummaryError(f"{where}: runs: expected a list of rows")
        # A run's row says what its own run measured; what was asked is its scenario's.
        asked = {k: data[k] for k in Asked.field_names() if k in data}
        part.runs = [Row.from_json(asked | run, f"{where}: run {n}") for n, run in enumerate(runs, 1)]
        return part

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "runs": [run.to_json() for run in self.runs]}


@dataclass
class Row:
    """One scenario's result: its summary.json object, typed."""

    asked: Asked
    facts: Facts = field(default_factory=Facts)
    measured: Measurement = field(default_factory=Measurement)
    ideal: Ideal = field(default_factory=Ideal)
    headroom: Headroom = field(default_factory=Headroom)
    search: Search = field(default_factory=Search)
    status: Status = field(default_factory=Status)
    thresholds: list[ThresholdCheck] = field(default_factory=list)  # judged on the row (the median run)
    repeated: Repeat | None = None  # set on a --repeat's row
    run: int | None = None  # set on each of a --repeat's runs: its number

    @property
    def name(self) -> str:
        return self.asked.scenario

    @property
    def completed(self) -> bool:
        return self.status.status == "completed"

    @property
    def breaches(self) -> list[ThresholdCheck]:
        return [check for check in self.thresholds if not check.passed]

    @property
    def reference_share(self) -> float | None:
        """djload's RPS over the reference's, when a reference ran."""
        rps, reference = self.measured.effective_rps, self.headroom.reference_rps
        return rps / reference if rps is not None and reference else None

    def value(self, key: str) -> Any:
        """A metric by its summary key, from whichever part holds it (for tables driven by Metric rows)."""
        for part in (self.measured, self.headroom, self.ideal):
            if key in part.field_names():
                return getattr(part, key)
        raise KeyError(f"no metric {key!r} in a summary row")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for part in (self.asked, self.status, self.facts, self.measured, self.ideal, self.headroom, self.search):
            data.update(part.to_json())
        data["thresholds"] = [check.to_json() for check in self.thresholds]
        if self.repeated is not None:
            data.update(self.repeated.to_json())
        if self.run is not None:
            data["run"] = self.run
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> "Row":
        if not isinstance(data, dict):
            raise SummaryError(f"{where}: expected a JSON object, got {type(data).__name__}")
        version = data.get("schema_version", SCHEMA_VERSION)  # rows written before versioning are version 1
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SCHEMA_VERSION:
            upgrade = "; upgrade djload" if isinstance(version, int) and version > SCHEMA_VERSION else ""
            raise SummaryError(
                f"{where}: schema_version {version!r} is not one this djload reads (1 to {SCHEMA_VERSION}){upgrade}"
            )
        run = data.get("run")
        if run is not None and not _fits(run, int):
            raise SummaryError(f"{where}: run: expected int, got {type(run).__name__}")
        asked = Asked.from_json(data, where)
        if wrong := name_problem(asked.scenario):  # the report writes and reads files named after it
            raise SummaryError(f"{where}: scenario: {wrong}")
        return cls(
            asked=asked,
            facts=Facts.from_json(data, where),
            measured=Measurement.from_json(data, where),
            ideal=Ideal.from_json(data, where),
            headroom=Headroom.from_json(data, where),
            search=Search.from_json(data, where),
            status=Status.from_json(data, where),
            thresholds=_thresholds(data.get("thresholds", []), where),
            repeated=Repeat.from_json(data, where) if "runs" in data else None,
            run=run,
        )

    def runs(self) -> list["Row"]:
        """The runs of a --repeat, or this row alone."""
        return self.repeated.runs if self.repeated else [self]

    def typical_run(self) -> "Row | None":
        """Of a --repeat's runs, the one whose RPS is nearest the row's (the median): the run whose counts,
        commands and requests stand for the row. None for a row that is not a --repeat's."""
        if not self.repeated:
            return None
        measured = [run for run in self.repeated.runs if run.measured.effective_rps is not None]
        if not measured:
            return None
        median = self.measured.effective_rps or 0.0
        typical: Row = min(measured, key=lambda run: abs((run.measured.effective_rps or 0.0) - median))
        return typical


def _thresholds(value: Any, where: str) -> list[ThresholdCheck]:
    if not isinstance(value, list):
        raise SummaryError(f"{where}: thresholds: expected a list, got {type(value).__name__}")
    checks = []
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise SummaryError(f"{where}: thresholds: item {n}: expected a JSON object")
        checks.append(ThresholdCheck.from_json(item, f"{where}: thresholds: item {n}"))
    return checks


def read(path: Path) -> list[Row]:
    """The rows of a summary.json; SummaryError (one line) when it is missing or malformed."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SummaryError(f"{path}: cannot read the run's summary: {exc}") from None
    except RecursionError:  # [[[[...: no summary djload writes is nested more than a few levels
        raise SummaryError(f"{path}: cannot read the run's summary: nested too deeply") from None
    if not isinstance(data, list):
        raise SummaryError(f"{path}: expected a list of scenario results, got a JSON {type(data).__name__}")
    return [Row.from_json(item, f"{path}: row {n}") for n, item in enumerate(data, 1)]


def read_folder(folder: Path) -> list[Row]:
    """The rows of a results folder (`djload run`'s, or a web UI's run-N)."""
    path = folder / SUMMARY_JSON
    if not path.is_file():
        raise SummaryError(f"{path}: no run's summary here: give a folder written by djload run or djload ui")
    return read(path)


def records_folder(folder: Path, row: Row) -> Path:
    """Where a row's requests.csv is: the scenario's folder, or with --repeat the run-N folder of the run
    nearest the median (the row's numbers are the medians); a web UI's run-N folder holds one run's files."""
    scenario_dir = folder / row.name
    if not scenario_dir.is_dir() and (folder / "requests.csv").is_file():
        return folder
    typical = row.typical_run()
    return scenario_dir / f"run-{typical.run or 1}" if typical else scenario_dir


def write(path: Path, rows: Sequence[Row]) -> None:
    """summary.json, atomically: a reader sees the previous version or the whole new one."""
    # Imported here: results reads git and the machine (subprocess), which the scenario checker, a pure
    # reader of this module's metric names, must not bring in.
    from djload.results import write_json

    write_json(path, [row.to_json() for row in rows])


# Every number of a row's measurement and headroom, by its key: what thresholds may name.
METRIC_KEYS = _numbers(Measurement) + _numbers(Headroom)
