"""The djload command: argument parsing, exit codes, and the stages wired together.

Exit codes: 0 every scenario completed · 1 a run failed (errors, wrong count, server died, locust
failed) · 2 bad input (scenario files, arguments, existing results folder, remote target) · 3 a server
did not boot · 130 interrupted (SIGINT or SIGTERM) · 129 hung up (SIGHUP).
"""

import argparse
import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from djload import cpus, headroom, ideal, metrics, processes, progress, serverlog, servers, swarm
from djload.modes import MODES
from djload.processes import Interrupted
from djload.records import Record
from djload.results import ResultsError, RunFolder, machine_metadata, now_iso, write_json
from djload.scenario import Placement, Scenario, ScenarioError, load
from djload.servers import RunningServer

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BOOT = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_HANGUP = processes.EXIT_INTERRUPTED, processes.EXIT_HANGUP

__all__ = ["Interrupted", "add_target_arguments", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage block: the usage is one --help away.
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: a number from 1 to 65535") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"invalid port {port}: a number from 1 to 65535")
    return port


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--allow-remote, for every command that serves or sends load; servers.check_target enforces it."""
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a target or bind address that is not loopback (default: 127.0.0.1 only)",
    )


def _target(text: str) -> tuple[str, str]:
    mode, _, url = text.partition("=")
    if mode not in MODES or not url:
        modes = ", ".join(sorted(MODES))
        raise argparse.ArgumentTypeError(f"expected MODE=URL with MODE one of {modes}, got {servers.masked(text)!r}")
    return mode, url.rstrip("/")


def _address(text: str) -> swarm.Address:
    host, _, port = text.rpartition(":")
    if not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return swarm.Address(host.strip("[]"), _port(port))


def add_site_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", type=_target, action="append", default=[], metavar="MODE=URL",
        help="use the site already serving at URL for scenarios of server mode MODE instead of booting one "
        "(e.g. asgi=http://site-asgi:8000); it must serve the same scenario file (`djload serve`)",
    )  # fmt: skip
    add_target_arguments(parser)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="djload", description="Load-test the talk's Django site under WSGI and ASGI server modes.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run scenarios headless and print the slide's table")
    run.add_argument("paths", nargs="+", metavar="PATH", help="scenario file or folder of them")
    run.add_argument("--out", type=Path, help="results folder to create (default: a new one under results/)")
    run.add_argument(
        "--workers", type=_positive_int, metavar="N",
        help="locust processes for every scenario, overriding swarm.processes: N > 1 is a master and N workers",
    )  # fmt: skip
    run.add_argument(
        "--external-workers", type=_address, metavar="HOST:PORT",
        help="the master listens on HOST:PORT for its workers (`djload worker`) instead of forking them",
    )  # fmt: skip
    run.add_argument(
        "--repeat", type=_at_least(1), default=1, metavar="N",
        help="run each scenario N times, each on a fresh server; report the median and the spread",
    )  # fmt: skip
    run.add_argument(
        "--warmup", type=_at_least(0), default=None, metavar="N",
        help="requests sent before each run and not counted (default: the scenario's swarm.warmup)",
    )  # fmt: skip
    _placement_options(run)
    add_site_arguments(run)

    rep = commands.add_parser("report", help="write report.md and report.html for a results folder")
    rep.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="a folder written by djload run")

    serve = commands.add_parser("serve", help="boot the site as a scenario says and serve until Ctrl-C")
    serve.add_argument("scenario", metavar="SCENARIO", help="scenario file")
    serve.add_argument("--port", type=_port, default=0, help="port to listen on (default: a free one)")
    serve.add_argument("--host", default=servers.HOST, help=f"address to bind (default: {servers.HOST})")
    _placement_options(serve)
    add_target_arguments(serve)

    ui = commands.add_parser("ui", help="boot the site as a scenario says and open Locust's web UI for it")
    ui.add_argument("scenario", metavar="SCENARIO", help="scenario file")
    ui.add_argument("--web-port", type=_port, default=8089, help="port of the web UI (default: 8089)")
    ui.add_argument("--web-host", default=servers.HOST, help=f"address of the web UI (default: {servers.HOST})")
    ui.add_argument("--out", type=Path, help="results folder to create (default: a new one under results/)")
    add_site_arguments(ui)

    worker = commands.add_parser("worker", help="run locust workers for `djload run --external-workers` until Ctrl-C")
    worker.add_argument(
        "--master", type=_address, default=swarm.Address(servers.HOST, 5557), metavar="HOST:PORT",
        help=f"the master to work for (default: {servers.HOST}:5557)",
    )  # fmt: skip
    add_target_arguments(worker)
    return parser


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _cpus(text: str) -> tuple[int, ...]:
    try:
        return cpus.checked(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _placement_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server-cpus",
        type=_cpus,
        metavar="CPUS",
        help="pin the server to these CPUs, e.g. 0 (default: scenario's cpus.server, else all)",
    )
    parser.add_argument(
        "--generator-cpus",
        type=_cpus,
        metavar="CPUS",
        help="pin locust to these CPUs, e.g. 1 (default: scenario's cpus.generator, else all)",
    )


def _placed(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """The scenario with the command line's CPU placement, where one was given."""
    server = getattr(args, "server_cpus", None) or scenario.cpus.server
    generator = getattr(args, "generator_cpus", None) or scenario.cpus.generator
    return replace(scenario, cpus=Placement(server, generator))


def placement_metadata(placement: Placement) -> dict[str, Any]:
    usable = list(cpus.usable())
    return {
        "pinned": placement.pinned,
        "server": list(placement.server or usable),
        "generator": list(placement.generator or usable),
    }


def _entry(scenario: Scenario, started: str) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "source": scenario.source,
        "server_mode": scenario.server.mode,
        "workers": scenario.server.workers,
        "threads": scenario.server.threads,
        "endpoint": scenario.endpoint.url_path,
        "sleep_s": scenario.sleep,
        "model": scenario.swarm.model,
        "user_class": scenario.swarm.user_class,
        "users": scenario.swarm.users,
        "requests_per_user": scenario.swarm.requests_per_user,
        "duration_s": scenario.swarm.duration_s,
        "rate": scenario.swarm.rate,
        "locust_processes": scenario.swarm.processes,
        "expected_requests": scenario.swarm.total_requests,
        "expected": scenario.expected,
        "cpu_placement": placement_metadata(scenario.cpus),
        "started_at": started,
        "status": "interrupted",
        "problem": "",
    }


def _with_metadata(entry: dict[str, Any], machine: dict[str, Any]) -> dict[str, Any]:
    """The facts needed to trust or repeat a run, in one place: machine, software, placement, start, commands."""
    entry["metadata"] = {**machine, "started_at": entry["started_at"], "cpu_placement": entry["cpu_placement"],
                         "server_command": None, "locust_command": None}  # fmt: skip
    return entry


@dataclass(frozen=True)
class Where:
    """Where a run's site and locust workers are: booted here (the default) or already running."""

    targets: dict[str, str] = field(default_factory=dict)  # server mode → URL of a running site
    master_bind: swarm.Address | None = None
    allow_remote: bool = False


class BootAhead:
    """The next run, started while the current swarm is idle so that it need not wait for a boot: its
    server, then its locust (waiting for a go file); and the stopping of the last server, left to finish.

    Idle means the server and locust together used less than IDLE_CPUS over the last samples: the
    requests are waiting (a sleeping view), not computing. While a run keeps the CPUs busy nothing is
    started beside it, so a boot never steals CPU from a measurement; the next run then boots after.
    """

    IDLE_CPUS = 0.2

    def __init__(self, swarm_ahead: bool = True) -> None:
        self.swarm_ahead = swarm_ahead  # False when locust's workers are started elsewhere
        self.next: tuple[Scenario, Callable[[], Path]] | None = None
        self.out_dir: Path | None = None  # the next run's folder, once its server is started
        self.server: RunningServer | None = None
        self.swarm: swarm.Started | None = None
        self.stopping: list[subprocess.Popen[bytes]] = []
        self.importing: threading.Thread | None = None

    def stop_later(self, process: subprocess.Popen[bytes]) -> None:
        """Ask a finished run's server to stop and let the next run start meanwhile; tick() reaps it."""
        processes.interrupt(process)
        self.stopping.append(process)

    def plan(self, following: tuple[Scenario, int, Callable[[], Path]] | None) -> None:
        """The run after the current one (scenario, run number, maker of its folder); None: nothing ahead."""
        self.next = (following[0], following[2]) if following else None

    def tick(self, monitor: headroom.Monitor) -> None:
        """Called while the current swarm runs: reap stopped servers, then do one idle-time job at a time."""
        for process in [p for p in self.stopping if p.poll() is not None]:
            processes.stop(process)  # the group's last members, and the registry
            self.stopping.remove(process)
        if self.server and not self._ready(self.server):
            return  # still booting: nothing else beside it
        busy = monitor.recent_cpus()
        if busy is None or busy >= self.IDLE_CPUS:
            return
        if self.next and not self.server:
            scenario, out_dir = self.next
            self.out_dir = out_dir()
            self.server = servers.start(scenario, self.out_dir)
        elif self.next and self.server and self.out_dir and not self.swarm and self._swarm_ahead(self.next[0]):
            self.swarm = swarm.start_ahead(self.next[0], self.server.base_url, self.out_dir)
        elif not self.importing:  # the report's matplotlib, needed at the end, imported while nothing happens
            self.importing = threading.Thread(target=_report, name="djload-import-report", daemon=True)
            self.importing.start()

    def _swarm_ahead(self, scenario: Scenario) -> bool:
        return self.swarm_ahead and scenario.swarm.processes == 1 and self.server is not None

    @staticmethod
    def _ready(server: RunningServer) -> bool:
        try:
            return servers.poll_ready(server)
        except servers.BootError:
            return True  # the next run's own wait for readiness says what went wrong

    def take(self, out_dir: Path) -> RunningServer | None:
        """The server started ahead for out_dir, if there is one; the caller stops it."""
        server, self.server = self.server, None
        if server and self.out_dir == out_dir:
            return server
        if server:
            processes.stop(server.process)
        return None

    def take_swarm(self, out_dir: Path) -> swarm.Started | None:
        """The locust started ahead for out_dir, if there is one; swarm.run lets it go and stops it."""
        started, self.swarm = self.swarm, None
        ours = self.out_dir == out_dir
        self.out_dir = None
        if started and ours:
            return started
        if started:
            processes.stop(started.process)
        return None


def _write_command_lines(out_dir: Path, server: RunningServer | None, host: str, locust_argv: list[str]) -> None:
    server_line = " ".join(server.argv) if server else f"already running at {servers.masked(host)}"
    (out_dir / "command-lines.txt").write_text(f"server: {server_line}\nlocust: {' '.join(locust_argv)}\n")


def _swarm(scenario: Scenario, host: str, out_dir: Path, entry: dict[str, Any], where: Where,
           server: RunningServer | None, monitor: headroom.Monitor,
           ahead: BootAhead | None = None) -> swarm.SwarmResult:  # fmt: skip
    if where.master_bind:
        master: swarm.Master | None = swarm.Master(where.master_bind, external=True)
    else:
        master = swarm.local_master() if scenario.swarm.processes > 1 else None
    started = ahead.take_swarm(out_dir) if ahead and server and not where.master_bind else None
    argv = started.argv if started else swarm.command(scenario, host, out_dir, master)
    entry["locust_command"] = [servers.masked(arg) for arg in argv]  # a --host password is not for the record
    entry["metadata"].update(server_command=entry.get("server_command"), locust_command=entry["locust_command"])
    _write_command_lines(out_dir, server, host, entry["locust_command"])
    try:
        return swarm.run(
            scenario, host, out_dir,
            server=server.process if server else None, allow_remote=where.allow_remote, master=master,
            monitor=monitor, while_running=(lambda: ahead.tick(monitor)) if ahead else None, started=started,
        )  # fmt: skip
    except Interrupted:
        # locust was stopped with SIGINT and wrote what it had: keep it in the partial result.
        entry.update(metrics.summarize(swarm.collect(out_dir)))
        raise


def run_scenario(
    scenario: Scenario,
    out_dir: Path,
    entry: dict[str, Any],
    where: Where = Where(),
    warmup: int = 0,
    ahead: BootAhead | None = None,
) -> None:
    """Boot, warm up, swarm, measure, stop; fills entry in place so that an interruption keeps what is known."""
    target = where.targets.get(scenario.server.mode)
    timeout_s, path = scenario.swarm.timeout_s, scenario.endpoint.url_path
    with headroom.Monitor() as monitor:
        if target:
            entry.update(target=servers.masked(target), server_command=None)
            entry["boot_s"] = servers.wait_for_site(target, where.allow_remote)
            entry["warmup_requests"] = servers.warm_up(target, path, warmup, timeout_s)
            result = _swarm(scenario, target, out_dir, entry, where, None, monitor)
            monitor.stop()
            judge(entry, scenario, result.records, None, monitor)
            return
        started = ahead.take(out_dir) if ahead else None
        stop = ahead.stop_later if ahead else processes.stop
        with servers.serve(scenario, out_dir, started=started, stop=stop) as server:
            monitor.watch("server", server.process.pid)
            entry["server_command"] = server.argv
            entry["boot_s"] = server.boot_s
            entry["warmup_requests"] = servers.warm_up(server.base_url, path, warmup, timeout_s)
            result = _swarm(scenario, server.base_url, out_dir, entry, where, server, monitor, ahead)
            monitor.stop()
            # Judged before the server is stopped: the measurement is whole even if stopping is interrupted.
            judge(entry, scenario, result.records, server, monitor)


def judge(entry: dict[str, Any], scenario: Scenario, records: list[Record], server: RunningServer | None,
          monitor: headroom.Monitor | None = None) -> None:  # fmt: skip
    entry.update(metrics.summarize(records))
    entry.update(metrics.view_split(records))
    entry.update((serverlog.read(server.log) if server else serverlog.LogStats()).as_summary())
    entry.update(ideal.compare(entry))
    if records and monitor:
        start, end = metrics.span(records)
        entry.update(headroom.usage(monitor, start, end, len(records), len(scenario.cpus.generator) or None))
    entry["latency_histogram"] = metrics.histogram([r.latency_ms for r in records])
    recorded, failed, expected = entry["completed_requests"], entry["total_errors"], scenario.swarm.total_requests
    server_exit = server.process.poll() if server else None
    if server and server_exit is not None:
        died = f"server {processes.describe_exit(server_exit)} during the run"
        problem = f"{died}; {recorded} of {expected} requests recorded, {failed} failed\n{processes.tail(server.log)}"
        entry.update(status="failed", problem=problem)
    elif expected is not None and recorded != expected:
        entry.update(status="failed", problem=f"{recorded} of {expected} requests recorded")
    elif not recorded:
        entry.update(status="failed", problem="no request was recorded")
    elif failed:
        entry.update(status="failed", problem=f"{failed} requests failed")
    else:
        entry["status"] = "completed"


def with_processes(scenarios: list[Scenario], processes: int) -> list[Scenario]:
    """--workers N: the same scenarios, each swarmed by N locust processes."""
    too_few = [s for s in scenarios if s.swarm.users < processes]
    if too_few:
        raise ScenarioError(
            [f"{s.source}: swarm.users is {s.swarm.users}, fewer than --workers {processes}" for s in too_few]
        )
    return [replace(s, swarm=replace(s.swarm, processes=processes)) for s in scenarios]


def _run_once(
    scenario: Scenario, out_dir: Path, entry: dict[str, Any], where: Where, warmup: int, ahead: BootAhead | None
) -> int:
    """One run into entry; the exit code it calls for (0 when it completed)."""
    try:
        run_scenario(scenario, out_dir, entry, where, warmup, ahead)
    except servers.BootError as exc:
        entry.update(status="boot_failed", problem=str(exc))
        return EXIT_BOOT
    except swarm.SwarmError as exc:
        entry.update(status="failed", problem=str(exc))
    except OSError as exc:  # a warm-up request failed
        entry.update(status="failed", problem=f"warm-up request failed: {exc}")
    return EXIT_OK if entry["status"] == "completed" else EXIT_FAILED


def _aggregate(entry: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """A --repeat: entry gets the runs, the medians of their metrics and the spread."""
    entry["runs"] = runs
    failed = [run for run in runs if run["status"] != "completed"]
    entry.update(status=failed[0]["status"] if failed else "completed", problem=failed[0]["problem"] if failed else "")
    entry.update(metrics.repeated(runs))
    # The row's counts are those of the run nearest the median RPS, so that they agree with it; errors of all.
    median_rps = entry.get("effective_rps") or 0
    typical = min(runs, key=lambda run: abs((run.get("effective_rps") or 0) - median_rps))
    for key in ("server_command", "locust_command", "boot_s", "completed_requests"):
        entry[key] = typical.get(key)
    entry["total_errors"] = sum(run.get("total_errors") or 0 for run in runs)
    entry["metadata"].update(server_command=entry["server_command"], locust_command=entry["locust_command"])
    entry["generator_bound"] = any(run.get("generator_bound") for run in runs)
    entry["repeat"] = len(runs)


def _run_dir(folder: RunFolder, scenario: Scenario, n: int, repeat: int) -> Callable[[], Path]:
    """The folder of run n of a scenario (its own folder, or run-N inside it for a --repeat), made on first use."""

    def make() -> Path:
        path = folder.path / scenario.name
        if repeat > 1:
            path = path / f"run-{n}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    return make


def _warmup(scenario: Scenario, args: argparse.Namespace) -> int:
    return scenario.swarm.warmup if args.warmup is None else int(args.warmup)


def cmd_run(args: argparse.Namespace) -> int:
    scenarios = [_placed(scenario, args) for scenario in load(args.paths)]
    if args.workers:
        scenarios = with_processes(scenarios, args.workers)
    where = _where(args)
    label = Path(args.paths[0]).stem if len(args.paths) == 1 else "run"
    machine = machine_metadata()
    # Nothing between the folder's creation and the try below, so that it is always finished.
    folder = RunFolder(args.out) if args.out else RunFolder.new(label)
    results: list[dict[str, Any]] = []
    code = EXIT_OK
    # Every run in order, each with the folder it writes to; the next one's server may boot ahead.
    plan = [(s, n, _run_dir(folder, s, n, args.repeat)) for s in scenarios for n in range(1, args.repeat + 1)]
    ahead, started = BootAhead(swarm_ahead=where.master_bind is None), 0
    try:
        with progress.tracker(len(scenarios)) as tracker:
            for scenario in scenarios:
                entry = _with_metadata(_entry(scenario, now_iso()), machine)
                if scenario.matrix:
                    entry["matrix"] = {"group": scenario.group, "values": dict(scenario.matrix)}
                results.append(entry)
                tracker.start(f"{scenario.name}: {scenario.server.mode} {scenario.endpoint.url_path}")
                runs: list[dict[str, Any]] = []
                status = EXIT_OK
                for n in range(1, args.repeat + 1):
                    run = entry
                    if args.repeat > 1:
                        run = _with_metadata(_entry(scenario, now_iso()), machine) | {"run": n}
                    runs.append(run)
                    out_dir = plan[started][2]
                    following = plan[started + 1] if started + 1 < len(plan) else None
                    ahead.plan(following if following and following[0].server.mode not in where.targets else None)
                    started += 1
                    run_status = _run_once(scenario, out_dir(), run, where, _warmup(scenario, args), ahead)
                    status = status or run_status
                    if args.repeat > 1:
                        rps = run.get("effective_rps")
                        print(f"  run {n}/{args.repeat}: {run['status']}, {rps if rps is not None else '-'} RPS",
                              file=sys.stderr)  # fmt: skip
                if args.repeat > 1:
                    _aggregate(entry, runs)
                if entry["status"] != "completed":
                    print(f"{scenario.name}: {entry['status']}: {entry['problem']}", file=sys.stderr)
                code = code or status
                # After each scenario, so that even a killed run leaves a whole summary of what it did.
                write_json(folder.path / "summary.json", results)
                tracker.done()
    except Interrupted as exc:
        code = exc.exit_code
        if results and results[-1]["status"] == "interrupted":
            results[-1]["problem"] = f"interrupted by {exc}"
        for scenario in scenarios[len(results) :]:
            results.append(
                _with_metadata(_entry(scenario, ""), machine) | {"problem": f"not started: interrupted by {exc}"}
            )
        print(f"interrupted by {exc}: servers and locust stopped, partial result kept", file=sys.stderr)
    finally:
        with processes.shielded():
            processes.stop_all()
            write_json(folder.path / "summary.json", results)
            _write_report(folder.path)
            final = folder.finish(interrupted=code in (EXIT_INTERRUPTED, EXIT_HANGUP))
    report = _report()
    print(report.table(results))
    for line in report.warnings(results):
        print(line)
    print(f"\nresults: {final}")
    return code


def _report() -> ModuleType:
    """djload.report, imported when first needed: it brings matplotlib, most of a second to import.
    `djload run` imports it in the background while its first server boots."""
    from djload import report

    return report


def _write_report(folder: Path) -> None:
    """The report goes inside the results folder before its final rename; a report that cannot be drawn
    must not cost the run its results, so its failure is said and the run goes on to finish."""
    try:
        _report().write(folder)
    except Exception as exc:  # noqa: BLE001 - any drawing failure; the measurements are already saved
        print(f"djload: the report could not be written: {type(exc).__name__}: {exc}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    report = _report()
    try:
        path = report.write(args.folder)
    except report.ReportError as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(path)
    return EXIT_OK


def _one_scenario(path: str) -> Scenario:
    scenarios = load([path])
    if len(scenarios) != 1:
        names = ", ".join(s.name for s in scenarios[:5]) + (", ..." if len(scenarios) > 5 else "")
        raise ScenarioError([f"{path}: holds {len(scenarios)} scenarios ({names}); this command takes one"])
    return scenarios[0]


def cmd_serve(args: argparse.Namespace) -> int:
    scenario = _placed(_one_scenario(args.scenario), args)
    servers.check_bind(args.host, args.port, args.allow_remote)
    if args.port:
        servers.check_port_free(args.host, args.port)  # before a results folder is made for nothing
    folder = RunFolder.new(f"serve-{scenario.name}")
    try:
        with servers.serve(
            scenario, folder.path, port=args.port or None, host=args.host, allow_remote=args.allow_remote
        ) as server:
            print(f"{scenario.name}: {scenario.server.mode} serving {server.base_url}{scenario.endpoint.url_path}")
            print(f"server command: {' '.join(server.argv)}")
            print(f"server log: {folder.path / 'server.log'}; press Ctrl-C to stop", flush=True)
            while server.process.poll() is None:
                time.sleep(0.2)
            print(f"server exited with code {server.process.returncode}", file=sys.stderr)
            return EXIT_FAILED
    except Interrupted as exc:
        return exc.exit_code
    finally:
        with processes.shielded():
            folder.finish()


def cmd_ui(args: argparse.Namespace) -> int:
    scenario = _one_scenario(args.scenario)
    where = _where(args)
    servers.check_bind(args.web_host, args.web_port, where.allow_remote)
    servers.check_port_free(args.web_host, args.web_port)  # before the site boots, not after
    target = where.targets.get(scenario.server.mode)
    folder = RunFolder(args.out) if args.out else RunFolder.new(f"ui-{scenario.name}")
    try:
        with contextlib.ExitStack() as stack:
            server = None if target else stack.enter_context(servers.serve(scenario, folder.path))
            host = server.base_url if server else str(target)
            if not server:
                servers.wait_for_site(host, where.allow_remote)
            other_sites = tuple(url for url in where.targets.values() if url != host)  # the UI may switch to them
            ui_args = (scenario, host, folder.path, args.web_port, args.web_host, other_sites)
            _write_command_lines(folder.path, server, host, swarm.ui_command(*ui_args))
            ui = stack.enter_context(swarm.web_ui(*ui_args, allow_remote=where.allow_remote))
            print(f"{scenario.name}: {scenario.server.mode} site at {host}")
            print(f"Locust web UI: {ui.url} (the Slide metrics tab shows the slide's numbers)")
            print(f"each run is saved in {folder.final}/run-N; press Ctrl-C to stop", flush=True)
            while ui.process.poll() is None and (server is None or server.process.poll() is None):
                time.sleep(0.2)
            if server and server.process.returncode is not None:
                print(f"server {processes.describe_exit(server.process.returncode)}", file=sys.stderr)
            else:
                print(
                    f"locust {processes.describe_exit(ui.process.returncode)}\n{processes.tail(ui.log)}",
                    file=sys.stderr,
                )
            return EXIT_FAILED
    except swarm.SwarmError as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Interrupted as exc:
        return exc.exit_code
    finally:
        with processes.shielded():
            folder.finish()


def cmd_worker(args: argparse.Namespace) -> int:
    print(f"locust workers for the master at {args.master}, one per run; press Ctrl-C to stop", flush=True)
    try:
        swarm.serve_workers(args.master, Path("/dev/stdout"), args.allow_remote)
    except Interrupted as exc:
        return exc.exit_code
    return EXIT_OK


def _where(args: argparse.Namespace) -> Where:
    """--target, --external-workers and --allow-remote, checked before anything starts."""
    where = Where(dict(args.target), getattr(args, "external_workers", None), args.allow_remote)
    for url in where.targets.values():
        servers.check_target(url, where.allow_remote)
    if where.master_bind:
        where.master_bind.check(where.allow_remote)
    return where


def main(argv: Sequence[str] | None = None) -> int:
    processes.install_signal_handlers()
    try:
        args = build_parser().parse_args(argv)
    except Interrupted as exc:
        return exc.exit_code
    processes.raise_fd_limit()
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "ui":
            return cmd_ui(args)
        if args.command == "worker":
            return cmd_worker(args)
        if args.command == "report":
            return cmd_report(args)
        return cmd_serve(args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ResultsError, servers.TargetError) as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except servers.BootError as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BOOT
    except Interrupted as exc:
        return exc.exit_code
    finally:
        with processes.shielded():
            processes.stop_all()


if __name__ == "__main__":
    sys.exit(main())
