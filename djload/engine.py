"""Running a plan of scenarios: boot, warm up, swarm, measure, judge; repeat; write the summary as it goes.

Each scenario's row (djload.summary) is filled in place while its run goes on, so that an interruption
keeps what is known; summary.json is rewritten after every scenario, so that even a killed run leaves
a whole summary of what it did. The results folder is finished (renamed) whatever happens.
"""

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from djload import (
    capacity,
    cause,
    cpus,
    deaths,
    headroom,
    ideal,
    layout,
    masking,
    metrics,
    modelkeys,
    processes,
    progress,
    reference,
    remote,
    results,
    serverlog,
    servers,
    summary,
    swarm,
    userlocust,
)
from djload.bootahead import BootAhead
from djload.processes import Interrupted
from djload.records import Record
from djload.results import NoRoom, RunFolder, machine_metadata, now_iso, write_command_lines
from djload.scenario import NORMAL, Budget, Placement, Scenario, ScenarioError, over_budget
from djload.servers import RunningServer
from djload.stack import Stack, needs_upstream
from djload.summary import Row
from djload.thresholds import judge as judge_thresholds


@dataclass(frozen=True)
class Sites:
    """Where a run's sites and locust workers are: booted here (the default), or already running."""

    targets: dict[str, str] = field(default_factory=dict)  # server mode → URL of a site already serving it
    master_bind: swarm.Address | None = None  # the master listens here for workers started elsewhere
    allow_remote: bool = False
    controls: dict[str, str] = field(default_factory=dict)  # server mode → its site's control endpoint

    def check(self) -> "Sites":
        """Every address checked before anything starts (servers.check_target is the one safety gate)."""
        for url in [*self.targets.values(), *self.controls.values()]:
            servers.check_target(url, self.allow_remote)
        if self.master_bind:
            self.master_bind.check(self.allow_remote)
        return self


@dataclass(frozen=True)
class Plan:
    """What `djload run` was asked to do with its scenarios."""

    scenarios: list[Scenario]
    repeat: int = 1
    warmup: int | None = None  # requests before each run; None: each scenario's swarm.warmup
    sites: Sites = Sites()
    fail_on_deviation: float | None = None  # percent from `expected:` that counts as a breach
    overrides: dict[str, float] = field(default_factory=dict)  # --users etc., as given: recorded in each row
    progress: str = "auto"  # progress.MODES

    def warmup_of(self, scenario: Scenario) -> int:
        return scenario.swarm.warmup if self.warmup is None else self.warmup


@dataclass
class Outcome:
    """The rows of a plan, the results folder's final path, and the signal that interrupted it, if one did."""

    rows: list[Row]
    folder: Path
    interrupted: Interrupted | None = None
    no_room: str = ""  # what could not be written for want of space, when the disk filled up


def placement_metadata(placement: Placement) -> dict[str, object]:
    usable = list(cpus.usable())
    return {
        "pinned": placement.pinned,
        "server": list(placement.server or usable),
        "generator": list(placement.generator or usable),
    }


def new_row(scenario: Scenario, started_at: str, machine: dict[str, object], overrides: dict[str, float],
            stack: Stack | None = None) -> Row:  # fmt: skip
    """A scenario's row before its run: what it asks, the machine's facts, and the status "interrupted"."""
    facts = summary.Facts(started_at=started_at, cpu_placement=placement_metadata(scenario.cpus), machine=machine)
    if stack:
        facts.database = stack.info(scenario).as_summary()
    return Row(replace(summary.Asked.of(scenario), overrides=dict(overrides)), facts)


def outcome(row: Row) -> str:
    """A finished scenario in one line, for a plain progress log."""
    m = row.measured
    line = f"{row.status.status}, {m.completed_requests or 0}/{row.asked.expected_requests or '-'} requests, "
    line += f"{m.total_errors or 0} errors, {summary.cell(m.total_time_s, '{:.3f} s')}"
    return line + (f", {len(row.breaches)} threshold(s) breached" if row.breaches else "")


class _Counts:
    """Feeds a tracker the live counts of the swarm writing into out_dir, a few times a second."""

    INTERVAL_S = 0.25

    def __init__(self, tracker: progress.Tracker, out_dir: Path) -> None:
        self.tracker, self.out_dir, self.next_at = tracker, out_dir, 0.0

    def poll(self) -> None:
        now = time.monotonic()
        if now >= self.next_at:
            self.next_at = now + self.INTERVAL_S
            self.tracker.update(*progress.read_counts(self.out_dir))


def _swarm(scenario: Scenario, host: str, out_dir: Path, row: Row, sites: Sites, server: RunningServer | None,
           monitor: headroom.Monitor, ahead: BootAhead | None = None,
           tracker: progress.Tracker | None = None, watch: deaths.Watch | None = None) -> list[Record]:  # fmt: skip
    if sites.master_bind:
        master: swarm.Master | None = swarm.Master(sites.master_bind, external=True)
    else:
        master = swarm.local_master() if scenario.swarm.processes > 1 else None
    spec = swarm.SwarmSpec(scenario, host, out_dir, master, sites.allow_remote)
    waiting = ahead.take_swarm(out_dir) if ahead and server and not sites.master_bind else None
    argv = waiting.argv if waiting else swarm.command(spec)
    row.facts.locust_command = [servers.masked(arg) for arg in argv]  # a --host password is not for the record
    write_command_lines(out_dir, server.argv if server else None, servers.masked(host), row.facts.locust_command)
    counts = _Counts(tracker, out_dir) if tracker else None

    def while_running() -> None:
        if ahead:
            ahead.tick(monitor)
        if counts:
            counts.poll()

    try:
        recorded = swarm.run(
            spec, server=server.process if server else None, monitor=monitor, while_running=while_running,
            started=waiting, death=watch.check if watch else None,
        )  # fmt: skip
        row.measured.login = swarm.logins(out_dir)
        return recorded
    except Interrupted:
        # locust was stopped with SIGINT and wrote what it had: keep it in the partial result.
        row.measured.update(metrics.summarize(swarm.collect(out_dir)))
        raise


def run_scenario(
    scenario: Scenario,
    out_dir: Path,
    row: Row,
    sites: Sites = Sites(),
    warmup: int = 0,
    ahead: BootAhead | None = None,
    stack: Stack | None = None,
    tracker: progress.Tracker | None = None,
) -> None:
    """Boot, warm up, swarm, measure, stop; fills row in place so that an interruption keeps what is known.

    stack: the database and upstream the plan booted, which the server is pointed at."""
    try:
        _run_scenario(scenario, out_dir, row, sites, warmup, ahead, stack, tracker)
    finally:
        for log in LOGS_TO_MASK:  # written by the server and locust: a secret they logged is masked
            masking.mask_file(out_dir / log)


LOGS_TO_MASK = ("access.log", "server.log", "locust.log")


def _run_scenario(scenario: Scenario, out_dir: Path, row: Row, sites: Sites, warmup: int, ahead: BootAhead | None,
                  stack: Stack | None, tracker: progress.Tracker | None) -> None:  # fmt: skip
    target = sites.targets.get(scenario.server.mode)
    control = sites.controls.get(scenario.server.mode)
    timeout_s = scenario.swarm.timeout_s
    with headroom.Monitor() as monitor:
        if target:
            row.facts.target = servers.masked(target)
            row.facts.boot_s = servers.wait_for_site(target, sites.allow_remote, site=scenario.site)
            scenario = modelkeys.filled(scenario)  # the site's own database: its keys are the run's
            path = scenario.warmup_path
            warmup = warmup if path else 0  # a mix of POSTs only: nothing to warm up with that changes no data
            row.facts.warmup_requests = servers.warm_up(target, path or "", warmup, timeout_s)
            site = remote.Control(control, sites.allow_remote) if control else None
            if scenario.capacity:  # the site's control measures one swarm's window, not a search's
                _search(scenario, target, out_dir, row, sites, None, monitor)
                return
            if site:
                site.begin()  # after the warm-up: its requests are not the run's
            recorded = _swarm(scenario, target, out_dir, row, sites, None, monitor, tracker=tracker)
            monitor.stop()
            window = metrics.span(recorded) if recorded else (0.0, 0.0)
            # The site's log lines of this run land in out_dir before they are read, as a local server's do.
            usage = site.end(*window, len(recorded), out_dir) if site else {}
            summarize_run(row, scenario, recorded, None, monitor, out_dir / "server.log" if site else None)
            row.headroom.update(usage)
            _workers_headroom(row, sites, out_dir, recorded)
            run_reference(row, scenario, target)
            return
        booted = ahead.take(out_dir) if ahead else None
        stop = ahead.stop_later if ahead else processes.stop
        # A server booted ahead got its environment (and its SQLite copy) when it was started.
        env = stack.environment(scenario, out_dir) if stack and not booted else {}
        spec = servers.ServerSpec(scenario, out_dir, stack_env=env)
        with servers.serve(spec, started=booted, stop=stop) as server:
            monitor.watch("server", server.process.pid)
            row.facts.update({"server_command": server.argv, "boot_s": server.boot_s})
            scenario = modelkeys.filled(scenario)  # after the project's setup ran: its keys are the run's
            path = scenario.warmup_path
            warmup = warmup if path else 0  # a mix of POSTs only: nothing to warm up with that changes no data
            row.facts.warmup_requests = servers.warm_up(server.base_url, path or "", warmup, timeout_s)
            if scenario.capacity:
                _search(scenario, server.base_url, out_dir, row, sites, server, monitor, ahead)
                return
            watch = deaths.Watch(stack.dependencies(scenario) if stack else {}, server.process, server.log)
            recorded = _swarm(scenario, server.base_url, out_dir, row, sites, server, monitor, ahead, tracker, watch)
            monitor.stop()
            # Summarized before the server is stopped: the measurement is whole even if stopping is interrupted.
            summarize_run(row, scenario, recorded, server, monitor, watch=watch)
            _workers_headroom(row, sites, out_dir, recorded)
            run_reference(row, scenario, server.base_url)


def _search(scenario: Scenario, host: str, out_dir: Path, row: Row, sites: Sites, server: RunningServer | None,
            monitor: headroom.Monitor, ahead: BootAhead | None = None) -> None:  # fmt: skip
    """capacity: the search's steps on the server already warmed up; the row's measurement is the step at
    capacity's, its status completed when a rate passed and the server lived."""
    assert scenario.capacity
    steps: list[capacity.Step] = []

    def run_step(spec: swarm.SwarmSpec) -> list[Record] | None:
        """One step's records; None when the server died: no rate is worth offering to it."""
        spec = replace(spec, allow_remote=sites.allow_remote)
        row.facts.locust_command = [servers.masked(arg) for arg in swarm.command(spec)]
        write_command_lines(spec.out_dir, server.argv if server else None, servers.masked(host),
                            row.facts.locust_command)  # fmt: skip
        recorded = swarm.run(spec, server=server.process if server else None, monitor=monitor,
                             while_running=(lambda: ahead.tick(monitor)) if ahead else None)  # fmt: skip
        return None if server and server.process.poll() is not None else recorded

    try:
        capacity.search(scenario, host, out_dir, monitor, run_step, steps)
    finally:  # an interruption keeps the steps measured so far
        monitor.stop()
        best = capacity.fill(row, scenario, steps, out_dir)
    step_scenario = capacity.step_scenario(scenario, best.offered_rps if best else 1.0, scenario.capacity.step_s)
    summarize_run(row, step_scenario, list(best.records) if best else [], server)
    row.ideal.update(ideal.NO_MODEL)  # the queueing model is of a closed swarm, not of rate steps
    if best:
        row.headroom.update(dict(best.usage))
    if server and server.process.poll() is not None:
        return  # summarize_run said how it died
    if best is None:
        first = steps[0] if steps else None
        why = f"{first.offered_rps:g} requests/s: {first.why}" if first else "no step ran"
        row.status = summary.Status("failed", f"capacity: not even start_rate passed: {why}")
    else:  # a step at capacity may hold the errors its SLO allows (error_rate_percent)
        row.status = summary.Status("completed", "")


def _workers_headroom(row: Row, sites: Sites, out_dir: Path, records: list[Record]) -> None:
    """Workers started elsewhere are out of the monitor's reach (it sees the master, which sends nothing):
    the generator's columns come from the workers' reports of themselves."""
    if sites.master_bind and records:
        start, end = metrics.span(records)
        row.headroom.update(remote.generator_usage(out_dir, start, end, len(cpus.usable())))


def summarize_run(row: Row, scenario: Scenario, records: list[Record], server: RunningServer | None,
                  monitor: headroom.Monitor | None = None, log: Path | None = None,
                  watch: deaths.Watch | None = None) -> None:  # fmt: skip
    """The run's records → the row's measurement, ideal, headroom, and its status: completed, or failed and why.
    The server's log is server's, or log for a site served elsewhere; without either there is no log analysis."""
    row.measured.update(metrics.summarize(records))
    row.measured.update(metrics.view_split(records))
    log = server.log if server else log
    row.measured.update((serverlog.read(log) if log else serverlog.LogStats()).as_summary())
    row.measured.latency_histogram = metrics.histogram([r.latency_ms for r in records])
    if scenario.locustfile:
        numbered, names = userlocust.by_name(records)  # its entries are the Locust names it sent
        row.measured.by_request = metrics.by_request(numbered, names)
    elif scenario.requests:
        # Named as written, a secret of the query masked: by_request goes to summary.json and the report.
        entries = [(r.method, servers.masked(r.path), _is_async(scenario, r.path)) for r in scenario.requests]
        row.measured.by_request = metrics.by_request(records, entries)
    row.ideal.update(ideal.compare(row.to_json()))
    if records and monitor:
        start, end = metrics.span(records)
        row.headroom.update(headroom.usage(monitor, start, end, len(records), len(scenario.cpus.generator) or None))
    server_exit = server.process.poll() if server else None
    death = ""
    if server and server_exit is not None:
        death = f"server {processes.describe_exit(server_exit)} during the run"
    elif server:  # what the server relies on, seen dead while the swarm ran, or a worker's death in its log
        death = (watch.check() if watch else "") or deaths.worker_death(server.log)
    recorded, failed = row.measured.completed_requests or 0, row.measured.total_errors or 0
    why = cause.failures(records, log, upstream=needs_upstream(scenario))
    row.status = summary.Status.judged(recorded, failed, scenario.swarm.total_requests, death, why)
    if server and server_exit is not None:
        row.status.problem += f"\n{processes.tail(server.log)}"
    failed_logins = (row.measured.login or {}).get("failures") or []
    if failed_logins:  # the users that could not sign in sent nothing: the sign-in is why
        more = f" (and {len(failed_logins) - 1} more)" if len(failed_logins) > 1 else ""
        problem = f"{failed_logins[0]}{more}" + (f"; {row.status.problem}" if row.status.problem else "")
        row.status = summary.Status("failed", problem)


def _is_async(scenario: Scenario, path: str) -> bool | None:
    """Whether the view a path resolved to is async (the bundled site's catalog, or the project's own answer)."""
    view = scenario.site.view(path)
    return view.is_async if view else None


def with_reference(scenarios: list[Scenario], tool: str) -> list[Scenario]:
    """--reference TOOL: the closed-model scenarios get swarm.reference = TOOL; an open model's rate is fixed,
    so the most the server gives is not its question."""
    return [replace(s, swarm=replace(s.swarm, reference=tool)) if s.swarm.model == "closed" else s for s in scenarios]


def check_references(scenarios: list[Scenario]) -> None:
    """Every reference tool the scenarios ask for is installed: reference.MissingTool before anything starts."""
    for tool in sorted({s.swarm.reference for s in scenarios if s.swarm.reference}):
        reference.find(tool)


def run_reference(row: Row, scenario: Scenario, host: str) -> None:
    """swarm.reference: wrk (or oha) against the same server right after the swarm, with its connections,
    duration and CPUs. A generator that got well under the reference's RPS was the limit: generator_bound
    then says so from this measurement, whatever locust's CPU read."""
    tool = scenario.swarm.reference
    if tool is None or not row.completed:
        return
    # A fixed-count run lasts as long as its requests took: the reference runs as long.
    duration_s = scenario.swarm.duration_s or row.measured.total_time_s or 1.0
    url = host + scenario.endpoint.url_path
    try:
        measured = reference.measure(
            tool, url, scenario.swarm.users, duration_s, scenario.cpus.generator, scenario.swarm.timeout_s
        )
    except reference.ReferenceFailed as exc:
        row.status = summary.Status("failed", f"reference {tool} against {servers.masked(url)}: {exc}")
        return
    row.headroom.update(
        {"reference_tool": measured.tool, "reference_rps": measured.rps, "reference_command": measured.argv}
    )
    share = row.reference_share
    row.headroom.generator_bound = share is not None and share < reference.BOUND_SHARE


def with_processes(scenarios: list[Scenario], processes: int) -> list[Scenario]:
    """--workers N: the same scenarios, each swarmed by N locust processes."""
    too_few = [s for s in scenarios if s.swarm.users < processes]
    if too_few:
        raise ScenarioError(
            [f"{s.source}: swarm.users is {s.swarm.users}, fewer than --workers {processes}" for s in too_few]
        )
    return [replace(s, swarm=replace(s.swarm, processes=processes)) for s in scenarios]


def with_overrides(scenarios: list[Scenario], overrides: dict[str, float], budget: Budget = NORMAL) -> list[Scenario]:
    """`djload run --users N --requests-per-user N --duration S --spawn-rate R`: every scenario with the
    swarm fields given (each already checked like its YAML field); ScenarioError for a combination a
    scenario file could not hold either, or a cost beyond the budget."""
    if not overrides:
        return scenarios
    problems, changed = [], []
    for scenario in scenarios:
        old = scenario.swarm
        swarm = replace(
            old,
            users=int(overrides.get("users", old.users)),
            requests_per_user=int(overrides.get("requests_per_user", old.requests_per_user)),
            spawn_rate=float(overrides.get("spawn_rate", old.spawn_rate)),
        )
        if "duration" in overrides:  # a throughput run: as long as that, whatever the count
            swarm = replace(swarm, duration_s=float(overrides["duration"]))
        if "requests_per_user" in overrides:
            if "duration" in overrides:
                problems.append("--requests-per-user, --duration: give one of them, not both")
            elif old.model == "open":
                problems.append(f"{scenario.source}: --requests-per-user: the open model sends rate × duration "
                                "requests; give --duration instead")  # fmt: skip
            else:  # a fixed count: the count decides, not a duration
                swarm = replace(swarm, duration_s=None)
        if scenario.capacity and {"requests_per_user", "duration"} & set(overrides):
            problems.append(f"{scenario.source}: --requests-per-user, --duration: the capacity search decides the "
                            "load; give --users (the connections) only")  # fmt: skip
        if swarm.processes > swarm.users:
            problems.append(f"{scenario.source}: --users: must be at least swarm.processes ({swarm.processes}), "
                            f"got {swarm.users}")  # fmt: skip
        flag = ", ".join(f"--{key.replace('_', '-')}" for key in overrides)
        changed.append(replace(scenario, swarm=swarm))
        problems += over_budget(changed[-1], flag, budget)
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return changed


def _run_once(scenario: Scenario, out_dir: Path, row: Row, sites: Sites, warmup: int, ahead: BootAhead | None,
              stack: Stack | None = None, tracker: progress.Tracker | None = None) -> None:  # fmt: skip
    """One run into row; what went wrong is the row's status, never an exception (but an interruption)."""
    try:
        run_scenario(scenario, out_dir, row, sites, warmup, ahead, stack, tracker)
    except servers.BootError as exc:
        row.status = summary.Status("boot_failed", str(exc))
    except (swarm.SwarmError, remote.ControlError) as exc:
        row.status = summary.Status("failed", str(exc))
    except modelkeys.KeysError as exc:
        row.status = summary.Status("failed", str(exc))
    except OSError as exc:
        if results.no_room(exc):  # writing into the results folder
            raise NoRoom(results.unwritten(exc)) from None
        row.status = summary.Status("failed", f"warm-up request failed: {exc}")
    if not row.completed and results.out_of_space(out_dir):
        # locust, or the server, could not write: its own log may not say so, with no room left for it either
        raise NoRoom(row.status.problem.splitlines()[0] if row.status.problem else "a run failed")


def _save(folder: RunFolder, rows: list[Row]) -> None:
    try:
        summary.write(folder.path / summary.SUMMARY_JSON, rows)
    except OSError as exc:
        if not results.no_room(exc):
            raise
        raise NoRoom(results.unwritten(exc)) from None


def aggregate(row: Row, runs: list[Row]) -> None:
    """A --repeat: row gets the runs, the medians of their metrics and the spread."""
    failed = [run for run in runs if not run.completed]
    row.status = replace(failed[0].status) if failed else summary.Status("completed", "")
    repeated = metrics.repeated([run.to_json() for run in runs])
    medians = {key: value for key, value in repeated.items() if key not in ("spread", "unstable")}
    for part in (row.measured, row.headroom):
        part.update({key: value for key, value in medians.items() if key in part.field_names()})
    row.repeated = summary.Repeat(
        runs=runs,
        spread=repeated["spread"],  # type: ignore[arg-type]
        unstable=repeated["unstable"],  # type: ignore[arg-type]
        repeat=len(runs),
    )
    # The row's counts are those of the run nearest the median RPS, so that they agree with it; errors of all.
    typical = row.typical_run() or runs[0]
    row.facts.update({key: getattr(typical.facts, key) for key in ("server_command", "locust_command", "boot_s")})
    row.measured.completed_requests = typical.measured.completed_requests
    row.measured.total_errors = sum(run.measured.total_errors or 0 for run in runs)
    row.headroom.generator_bound = any(run.headroom.generator_bound for run in runs)
    references = [run.headroom.reference_rps for run in runs if run.headroom.reference_rps is not None]
    if references:
        row.headroom.reference_rps = statistics.median(references)
        row.headroom.reference_tool = typical.headroom.reference_tool or runs[0].headroom.reference_tool
        row.headroom.reference_command = typical.headroom.reference_command
    row.ideal.update(ideal.compare(row.to_json()))


def _run_dir(folder: RunFolder, scenario: Scenario, n: int, repeat: int) -> Callable[[], Path]:
    """The folder of run n of a scenario (its own folder, or run-N inside it for a --repeat), made on first use."""

    def make() -> Path:
        path = layout.scenario_dir(folder.path, scenario.name)  # the name was checked; this proves it
        if repeat > 1:
            path = path / f"run-{n}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    return make


def _write_report(folder: Path) -> Interrupted | None:
    """The report goes inside the results folder before its final rename; a report that cannot be drawn
    must not cost the run its results, so its failure is said and the run goes on to finish. A signal
    cuts it short, even on the way out of an interrupted run: the results are kept, and `djload report`
    draws it later. Returns that signal."""
    try:
        with processes.cancellable():
            from djload import report  # matplotlib: imported when needed, or ahead while a swarm idles

            report.write(folder)
    except Interrupted as exc:
        print(f"djload: the report was not written (interrupted by {exc}); `djload report` on the results folder "
              "writes it", file=sys.stderr)  # fmt: skip
        return exc
    except Exception as exc:  # noqa: BLE001 - any drawing failure; the measurements are already saved
        print(f"djload: the report could not be written: {type(exc).__name__}: {exc}", file=sys.stderr)
    return None


def run_plan(plan: Plan, folder: RunFolder) -> Outcome:
    """Every run of the plan in order, into folder, which is finished (renamed) whatever happens."""
    rows: list[Row] = []
    interrupted: Interrupted | None = None
    report_interrupted: Interrupted | None = None
    full = ""  # why the results could not all be written: the disk filled up
    machine: dict[str, object] = {}
    # Every run in order, each with the folder it writes to; the next one's server may boot ahead.
    numbers = range(1, plan.repeat + 1)
    runs_in_order = [(s, _run_dir(folder, s, n, plan.repeat)) for s in plan.scenarios for n in numbers]
    # The database and upstream of every scenario that boots its site here, booted before the first run.
    stack = Stack(folder.path, plan.sites.allow_remote)
    ahead, next_run = BootAhead(swarm_ahead=plan.sites.master_bind is None, environment=stack.environment), 0
    first_booting = False  # the first scenario has started once its server starts booting, before its row
    try:
        stack.open([scenario for scenario in plan.scenarios if scenario.server.mode not in plan.sites.targets])
        if runs_in_order and runs_in_order[0][0].server.mode not in plan.sites.targets:
            first_booting = True
            ahead.start_first(*runs_in_order[0])
        machine = machine_metadata()  # git and versions, asked while the first server boots
        with progress.tracker(len(plan.scenarios), plan.progress) as tracker:
            for scenario in plan.scenarios:
                row = new_row(scenario, now_iso(), machine, plan.overrides, stack)
                rows.append(row)
                label = f"{scenario.name}: {scenario.server.mode} {scenario.endpoint_label}"
                runs: list[Row] = []
                for n in range(1, plan.repeat + 1):
                    run = row
                    if plan.repeat > 1:
                        run = new_row(scenario, now_iso(), machine, plan.overrides, stack)
                        run.run = n
                    runs.append(run)
                    tracker.start(
                        label,
                        None if scenario.capacity else scenario.swarm.total_requests,
                        f"run {n}/{plan.repeat}" if plan.repeat > 1 else "",
                    )
                    out_dir = runs_in_order[next_run][1]
                    following = runs_in_order[next_run + 1] if next_run + 1 < len(runs_in_order) else None
                    boots_here = following and following[0].server.mode not in plan.sites.targets
                    ahead.plan(following if boots_here else None)
                    next_run += 1
                    _run_once(scenario, out_dir(), run, plan.sites, plan.warmup_of(scenario), ahead, stack, tracker)
                    tracker.update(run.measured.completed_requests or 0, run.measured.total_errors or 0)
                    if plan.repeat > 1:
                        rps = run.measured.effective_rps
                        print(f"  run {n}/{plan.repeat}: {run.status.status}, {rps if rps is not None else '-'} RPS",
                              file=sys.stderr)  # fmt: skip
                if plan.repeat > 1:
                    aggregate(row, runs)
                row.thresholds = judge_thresholds(row, scenario.thresholds, plan.fail_on_deviation)
                if not row.completed:
                    print(f"{scenario.name}: {row.status.status}: {row.status.problem}", file=sys.stderr)
                # After each scenario, so that even a killed run leaves a whole summary of what it did.
                _save(folder, rows)
                tracker.done(outcome(row))
    except Interrupted as exc:
        interrupted = exc
        machine = machine or machine_metadata()
        if not rows and first_booting:  # interrupted while the first server booted: that scenario had started
            rows.append(new_row(plan.scenarios[0], now_iso(), machine, plan.overrides))
        if rows and rows[-1].status.status == "interrupted":
            rows[-1].status.problem = f"interrupted by {exc}"
        for scenario in plan.scenarios[len(rows) :]:
            row = new_row(scenario, "", machine, plan.overrides)
            row.status.problem = f"not started: interrupted by {exc}"
            rows.append(row)
        print(f"interrupted by {exc}: servers and locust stopped, partial result kept", file=sys.stderr)
    except NoRoom as exc:
        # Nothing more can be written: the runs left would fail the same way. What is written stays.
        full = str(exc)
        if rows:
            rows[-1].status = summary.Status("failed", f"no space left for the results: {full}")
    finally:
        with processes.shielded():
            stack.close()  # postgres's fast shutdown and its folder removed, the upstream stopped
            if interrupted or full:
                processes.stop_all()
            else:  # the last server stops (uvicorn's graceful shutdown: about 0.4 s) while the report is drawn
                processes.interrupt_all()
            try:
                _save(folder, rows)
            except NoRoom as exc:
                full = full or str(exc)  # the last summary.json written whole stays
            if not full:
                report_interrupted = _write_report(folder.path)
            processes.stop_all()
            # The rows are whole: a signal during the report alone does not mark the results interrupted.
            final = folder.finish(interrupted=interrupted is not None, incomplete=full)
    return Outcome(rows, final, interrupted or report_interrupted, full)
