"""The djload command: the parser, one function per command, and the exit codes. The work is elsewhere:
running scenarios in djload.engine, the terminal table in djload.console, the report in djload.report.

Exit codes: 0 every scenario completed · 1 a run failed (errors, wrong count, server died, locust
failed) · 2 bad input (scenario files, arguments, existing results folder, remote target) · 3 a server
did not boot · 4 a threshold breached (every scenario completed) or a regression found (`compare`) ·
130 interrupted (SIGINT or SIGTERM) · 129 hung up (SIGHUP).
"""

import argparse
import contextlib
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Container, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from djload import (
    compare,
    console,
    controlauth,
    cpus,
    database,
    engine,
    junit,
    limits,
    processes,
    progress,
    reference,
    remote,
    results,
    servers,
    starter,
    swarm,
)
from djload.diagnosis import known_failures
from djload.modes import MODES
from djload.processes import Interrupted
from djload.project import ProjectError
from djload.results import ResultsError, RunFolder, write_command_lines
from djload.scenario import (
    HUGE,
    HUGE_FLAG,
    MAX_PROCESSES,
    MAX_REQUESTS_PER_USER,
    MAX_SECONDS,
    MAX_USERS,
    NORMAL,
    REFERENCE_TOOLS,
    Budget,
    Placement,
    Scenario,
    ScenarioError,
    load,
    with_warmup,
)
from djload.stack import Stack, check_stack
from djload.summary import Asked, SummaryError
from djload.yamlcheck import Check, between, positive, type_name

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BOOT, EXIT_BREACHED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_HANGUP = processes.EXIT_INTERRUPTED, processes.EXIT_HANGUP


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


def add_budget_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        HUGE_FLAG, dest="huge", action="store_true",
        help="allow the deliberately huge: more than 1,000 scenarios, 1,000,000 requests or 10,000 users per "
        "scenario, runs of more than an hour (without it, such input is refused before anything starts)",
    )  # fmt: skip


def _budget(args: argparse.Namespace) -> Budget:
    return HUGE if args.huge else NORMAL


def _processes(text: str) -> int:
    """--workers: as swarm.processes, each one a locust process forked on this machine."""
    digits = text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 6  # never a 10,000-digit int()
    if not digits or not 1 <= int(text) <= MAX_PROCESSES:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_PROCESSES}, got {text[:20]!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="djload",
        description="Load-test a Django site (the talk's, or your own project) under WSGI and ASGI server modes.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run scenarios headless and print the slide's table")
    run.add_argument("paths", nargs="+", metavar="PATH", help="scenario file or folder of them")
    run.add_argument("--out", type=Path, help="results folder to create (default: a new one under results/)")
    how_many = run.add_mutually_exclusive_group()
    how_many.add_argument(
        "--workers", type=_processes, metavar="N",
        help="locust processes for every scenario, overriding swarm.processes: N > 1 is a master and N workers",
    )  # fmt: skip
    how_many.add_argument(
        "--workers-from", metavar="HOST",
        help="with --external-workers: as many workers as HOST resolves to addresses (a compose service's "
        "containers, e.g. after --scale worker=N)",
    )  # fmt: skip
    run.add_argument(
        "--external-workers", type=_address, metavar="HOST:PORT",
        help="the master listens on HOST:PORT for its workers (`djload worker`) instead of forking them",
    )  # fmt: skip
    run.add_argument(
        "--control", type=_target, action="append", default=[], metavar="MODE=URL",
        help="the control endpoint of the --target site of MODE (`djload serve --control-port`): its server's "
        "CPU and log lines for each scenario, as a local run has them",
    )  # fmt: skip
    run.add_argument(
        "--repeat", type=_at_least(1), default=1, metavar="N",
        help="run each scenario N times, each on a fresh server; report the median and the spread",
    )  # fmt: skip
    run.add_argument(
        "--reference", choices=REFERENCE_TOOLS, metavar="TOOL",
        help="after each closed-model swarm, run TOOL (wrk; oha where wrk is missing) against the same server "
        "with the same connections, duration and CPUs; the row gets reference_rps and djload's share of it",
    )  # fmt: skip
    run.add_argument(
        "--warmup", type=_at_least(0), default=None, metavar="N",
        help="requests sent before each run and not counted (default: the scenario's swarm.warmup)",
    )  # fmt: skip
    # Locust-style overrides for a quick try: every scenario, each checked like its YAML field.
    run.add_argument("--users", type=_swarm_field(int, between(1, MAX_USERS)), metavar="N",
                     help="users of every scenario's swarm (swarm.users)")  # fmt: skip
    run.add_argument("--requests-per-user", type=_swarm_field(int, between(1, MAX_REQUESTS_PER_USER)), metavar="N",
                     help="requests each user sends: a fixed-count run (swarm.requests_per_user)")  # fmt: skip
    run.add_argument("--duration", type=_swarm_field(float, positive(MAX_SECONDS)), metavar="S",
                     help="seconds each swarm runs: a throughput run (swarm.duration)")  # fmt: skip
    run.add_argument("--spawn-rate", type=_swarm_field(float, between(0, MAX_USERS)), metavar="R",
                     help="users started per second, 0 for all at once (swarm.spawn_rate)")  # fmt: skip
    run.add_argument(
        "--progress", choices=progress.MODES, default="auto",
        help="live progress: a bar on stderr (auto: only on a terminal), one plain line per scenario, or off",
    )  # fmt: skip
    run.add_argument(
        "--fail-on-deviation", type=_percent, metavar="PCT",
        help="a scenario whose total time or mean latency is more than PCT %% from its expected: numbers "
        "counts as a breached threshold (exit code 4)",
    )  # fmt: skip
    run.add_argument(
        "--junit", type=_new_file, metavar="FILE",
        help="also write a JUnit XML report: one test case per scenario, a failure per breached threshold",
    )  # fmt: skip
    _placement_options(run)
    add_site_arguments(run)
    add_budget_argument(run)

    rep = commands.add_parser("report", help="write report.md and report.html for a results folder")
    rep.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="a folder written by djload run")

    comp = commands.add_parser("compare", help="compare two results folders scenario by scenario, with significance")
    comp.add_argument("old", type=Path, metavar="OLD", help="the results folder to compare against (the baseline)")
    comp.add_argument("new", type=Path, metavar="NEW", help="the results folder to judge")
    comp.add_argument(
        "--max-regression", type=_percent, default=10.0, metavar="PCT",
        help="exit 4 when a scenario got significantly slower (mean latency or total time up, RPS down) "
        "by more than PCT %% (default: 10)",
    )  # fmt: skip
    comp.add_argument(
        "--out", type=_folder, metavar="DIR", help="also write compare.md and compare.html into DIR"
    )  # fmt: skip

    serve = commands.add_parser("serve", help="boot the site as a scenario says and serve until Ctrl-C")
    serve.add_argument("scenario", metavar="SCENARIO", help="scenario file")
    serve.add_argument("--port", type=_port, default=0, help="port to listen on (default: a free one)")
    serve.add_argument("--host", default=servers.HOST, help=f"address to bind (default: {servers.HOST})")
    serve.add_argument(
        "--control-port", type=_port, metavar="PORT",
        help="also answer `djload run --control` on this port (same address): the server's CPU and log lines per run",
    )  # fmt: skip
    _placement_options(serve)
    add_target_arguments(serve)
    add_budget_argument(serve)

    ui = commands.add_parser("ui", help="boot the site as a scenario says and open Locust's web UI for it")
    ui.add_argument("scenario", metavar="SCENARIO", help="scenario file")
    ui.add_argument("--web-port", type=_port, default=8089, help="port of the web UI (default: 8089)")
    ui.add_argument("--web-host", default=servers.HOST, help=f"address of the web UI (default: {servers.HOST})")
    ui.add_argument("--out", type=Path, help="results folder to create (default: a new one under results/)")
    add_site_arguments(ui)
    add_budget_argument(ui)

    worker = commands.add_parser("worker", help="run locust workers for `djload run --external-workers` until Ctrl-C")
    worker.add_argument(
        "--master", type=_address, default=swarm.Address(servers.HOST, 5557), metavar="HOST:PORT",
        help=f"the master to work for (default: {servers.HOST}:5557)",
    )  # fmt: skip
    add_target_arguments(worker)

    init = commands.add_parser("init", help="write a starter scenario for your own Django project")
    init.add_argument("project_dir", type=Path, metavar="PROJECT_DIR", help="the folder that holds manage.py")
    init.add_argument("--settings", required=True, metavar="MODULE", help="DJANGO_SETTINGS_MODULE, e.g. shop.settings")
    init.add_argument("--out", type=Path, metavar="FILE", help="the file to write (default: scenarios/<project>.yaml)")
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


def _swarm_field(kind: type[int] | type[float], check: Check) -> Callable[[str], float]:
    """An override of a swarm field, with the scenario checker's rule and message for that field."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {type_name(kind)}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        problem = check(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a percentage such as 10, got {text!r}") from None
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1000 (percent), got {text!r}")
    return value


def _new_file(text: str) -> Path:
    """A file to write, checked now, not after the whole run: its missing folders are made when it is
    written (as pytest's --junitxml does, so that a fresh CI checkout needs no mkdir), but none of its
    folders may be a file."""
    path = Path(text)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{folder} is not a folder; the file {text!r} cannot be written there")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    if path.exists() and not path.is_file():  # a FIFO would block the run's end until someone reads it
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular file")
    return path


def _folder(text: str) -> Path:
    """A folder to write into, made if missing: checked now, not after the work is done."""
    path = Path(text)
    if path.is_symlink() and not path.exists():
        raise argparse.ArgumentTypeError(f"{text!r} is a symbolic link to {os.readlink(path)}, which does not exist")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    return path


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


def cmd_run(args: argparse.Namespace) -> int:
    budget = _budget(args)
    scenarios = [_placed(scenario, args) for scenario in load(args.paths, budget)]
    if len(scenarios) * args.repeat > budget.combinations:
        runs = len(scenarios) * args.repeat
        raise ScenarioError([f"--repeat {args.repeat}: {runs:,} runs; more than {budget.combinations:,} {budget.lift}"])
    if args.workers_from and not args.external_workers:
        raise servers.TargetError("--workers-from counts workers started elsewhere: it needs --external-workers")
    workers = remote.count_workers(args.workers_from) if args.workers_from else args.workers
    if workers:
        scenarios = engine.with_processes(scenarios, workers)
    if args.reference:
        scenarios = engine.with_reference(scenarios, args.reference)
    given = {"users": args.users, "requests_per_user": args.requests_per_user, "duration": args.duration,
             "spawn_rate": args.spawn_rate}  # fmt: skip
    overrides = {key: value for key, value in given.items() if value is not None}
    scenarios = engine.with_overrides(scenarios, overrides, budget)
    if args.warmup is not None:  # its requests count in the cost as the scenario's own swarm.warmup do
        scenarios = with_warmup(scenarios, args.warmup, budget)
    engine.check_references(scenarios)
    check_stack(scenarios, args.allow_remote)  # a database URL's address, an installed PostgreSQL
    plan = engine.Plan(
        scenarios, repeat=args.repeat, warmup=args.warmup, sites=_sites(args),
        fail_on_deviation=args.fail_on_deviation, overrides=overrides, progress=args.progress,
    )  # fmt: skip
    _say_limits(plan.scenarios, plan.sites.targets)
    _say_known_failures(plan.scenarios)
    label = Path(args.paths[0]).stem if len(args.paths) == 1 else "run"
    # Nothing between the folder's creation and run_plan, which always finishes it.
    folder = RunFolder(args.out) if args.out else RunFolder.new(label)
    outcome = engine.run_plan(plan, folder)
    if outcome.no_room:
        print(f"djload: {outcome.folder}: no space left on its file system ({outcome.no_room}); what was written "
              f"is kept there, marked incomplete ({results.INCOMPLETE})", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    print(console.table(outcome.rows))
    if per_request := console.by_request_table(outcome.rows):
        print(per_request)
    for line in console.warnings(outcome.rows):
        print(line)
    print(f"\nresults: {outcome.folder}")
    if args.junit:
        junit.write(args.junit, outcome.rows)
    return exit_code(outcome)


def _say_known_failures(scenarios: list[Scenario]) -> None:
    """Before anything starts: each combination of a mode and a view known to fail (djload.diagnosis)."""
    found = [(s.name, Asked.of(s).diagnosis) for s in scenarios]
    for line in known_failures(found):
        print(f"WARNING: {line}", file=sys.stderr)


def _say_limits(scenarios: list[Scenario], elsewhere: Container[str] = ()) -> None:
    """Before anything starts: one line per machine limit a swarm would go past (root or a sysctl lifts it)."""
    for line in limits.warnings(scenarios, elsewhere):
        print(f"WARNING: {line}", file=sys.stderr)


def exit_code(outcome: engine.Outcome) -> int:
    """An interruption's code; else that of the first scenario that did not complete; else 4 if a threshold
    was breached; else 0."""
    if outcome.interrupted:
        return outcome.interrupted.exit_code
    for row in outcome.rows:
        if not row.completed:
            return EXIT_BOOT if row.status.status == "boot_failed" else EXIT_FAILED
    return EXIT_BREACHED if any(row.breaches for row in outcome.rows) else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from djload import report  # matplotlib: only this command and the end of a run need it

    try:
        print(report.write(args.folder))
    except OSError as exc:
        if not results.no_room(exc):
            raise
        print(f"djload: {args.folder}: no space left on its file system ({results.unwritten(exc)}); "
              "the files written before it are kept", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    comparison = compare.compare(args.old, args.new)
    print(compare.text(comparison, args.max_regression))
    if args.out:
        from djload import report  # matplotlib: only for the pictures of --out

        print(f"\ncomparison: {report.write_comparison(comparison, args.out, args.max_regression)}")
    return EXIT_BREACHED if comparison.regressions(args.max_regression) else EXIT_OK


def _one_scenario(path: str, budget: Budget) -> Scenario:
    scenarios = load([path], budget)
    if len(scenarios) != 1:
        names = ", ".join(s.name for s in scenarios[:5]) + (", ..." if len(scenarios) > 5 else "")
        raise ScenarioError([f"{path}: holds {len(scenarios)} scenarios ({names}); this command takes one"])
    return scenarios[0]


def _until_one_exits(watched: dict[str, tuple[subprocess.Popen[bytes], Path | None]]) -> int:
    """Wait while every watched process runs (serve and ui run until Ctrl-C); say which one ended, and how."""
    while all(process.poll() is None for process, _ in watched.values()):
        time.sleep(0.2)
    for name, (process, log) in watched.items():
        if process.returncode is not None:
            ended = f"{name} {processes.describe_exit(process.returncode)}"
            print(ended + (f"\n{processes.tail(log)}" if log else ""), file=sys.stderr)
            break
    return EXIT_FAILED


def _until_interrupted(folder: RunFolder, body: Callable[[], int]) -> int:
    """Run a command that serves until Ctrl-C; an interruption is its normal end; the folder is finished."""
    try:
        return body()
    except Interrupted as exc:
        return exc.exit_code
    finally:
        with processes.shielded():
            folder.finish()


def cmd_serve(args: argparse.Namespace) -> int:
    scenario = _placed(_one_scenario(args.scenario, _budget(args)), args)
    servers.check_bind(args.host, args.port, args.allow_remote)
    for port in (args.port, args.control_port):
        if port:
            servers.check_port_free(args.host, port)  # before a results folder is made for nothing
    _say_limits([scenario])
    folder = RunFolder.new(f"serve-{scenario.name}")

    def serve() -> int:
        spec = servers.ServerSpec(scenario, folder.path, args.port or None, args.host, args.allow_remote)
        with contextlib.ExitStack() as stack:
            # The database and upstream its endpoint needs, then the site pointed at them; all stopped on the way out.
            around = stack.enter_context(Stack(folder.path, args.allow_remote).open([scenario]))
            server = stack.enter_context(
                servers.serve(replace(spec, stack_env=around.environment(scenario, folder.path)))
            )
            print(f"{scenario.name}: {scenario.server.mode} serving {server.base_url}{scenario.endpoint.url_path}")
            print(f"server command: {' '.join(server.argv)}")
            if args.control_port:
                control = remote.control(server, folder.path, args.host, args.control_port, args.allow_remote)
                url = stack.enter_context(control)
                # The token in clear only when djload made it up: the user needs it for --control.
                shown = servers.masked(url) if controlauth.from_environment() else url
                print(f"control endpoint (djload run --control): {shown}")
            print(f"server log: {folder.path / 'server.log'}; press Ctrl-C to stop", flush=True)
            return _until_one_exits({"server": (server.process, None)})

    return _until_interrupted(folder, serve)


def cmd_ui(args: argparse.Namespace) -> int:
    scenario = _one_scenario(args.scenario, _budget(args))
    if scenario.requests or scenario.locustfile:
        # The web UI's form picks one path of the bundled site; a mix, a project or a locustfile runs headless.
        raise ScenarioError([f"{scenario.source}: djload ui sends to one endpoint of the bundled site; "
                             f"run a mix or your own project with: djload run {scenario.source}"])  # fmt: skip
    sites = _sites(args)
    servers.check_bind(args.web_host, args.web_port, sites.allow_remote)
    servers.check_port_free(args.web_host, args.web_port)  # before the site boots, not after
    target = sites.targets.get(scenario.server.mode)
    _say_limits([scenario], sites.targets)
    folder = RunFolder(args.out) if args.out else RunFolder.new(f"ui-{scenario.name}")

    def serve_ui() -> int:
        with contextlib.ExitStack() as stack:
            server = None
            if not target:
                # Every endpoint may be picked in the UI: the database and upstream of all of them.
                around = stack.enter_context(Stack(folder.path, sites.allow_remote).open([scenario], everything=True))
                env = around.environment(scenario, folder.path, everything=True)
                server = stack.enter_context(servers.serve(servers.ServerSpec(scenario, folder.path, stack_env=env)))
            host = server.base_url if server else str(target)
            if not server:
                servers.wait_for_site(host, sites.allow_remote)
            other_sites = tuple(url for url in sites.targets.values() if url != host)  # the UI may switch to them
            spec = swarm.SwarmSpec(scenario, host, folder.path, allow_remote=sites.allow_remote)
            budget = _budget(args)
            web = swarm.WebUI(args.web_port, args.web_host, other_sites, budget.users, budget.requests)
            ui_argv = [servers.masked(arg) for arg in swarm.ui_command(spec, web)]  # a password is not for the record
            write_command_lines(folder.path, server.argv if server else None, servers.masked(host), ui_argv)
            ui = stack.enter_context(swarm.web_ui(spec, web))
            print(f"{scenario.name}: {scenario.server.mode} site at {host}")
            print(f"Locust web UI: {ui.url} (the Slide metrics tab shows the slide's numbers)")
            print(f"each run is saved in {folder.final}/run-N; press Ctrl-C to stop", flush=True)
            watched: dict[str, tuple[subprocess.Popen[bytes], Path | None]] = {"locust": (ui.process, ui.log)}
            if server:
                watched["server"] = (server.process, None)
            return _until_one_exits(watched)

    return _until_interrupted(folder, serve_ui)


def cmd_worker(args: argparse.Namespace) -> int:
    args.master.check(args.allow_remote)  # before the banner: a refused master is the one line said
    print(f"locust workers for the master at {args.master}, one per run; press Ctrl-C to stop", flush=True)
    try:
        swarm.serve_workers(args.master, Path("/dev/stdout"), args.allow_remote)
    except Interrupted as exc:
        return exc.exit_code
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    written = starter.write(args.project_dir, args.settings, args.out)
    print(f"wrote {written.path}: {len(written.routes)} routes as GET requests of weight 1"
          + (f", {len(written.skipped)} with parameters as comments" if written.skipped else "")
          + f", under {', '.join(starter.MODES)}")  # fmt: skip
    print("edit it (POST bodies, parameters, weights, a test database), then run:")
    print(f"  djload run {written.path}")
    return EXIT_OK


def _sites(args: argparse.Namespace) -> engine.Sites:
    """--target, --control, --external-workers and --allow-remote, checked before anything starts."""
    external, controls = getattr(args, "external_workers", None), dict(getattr(args, "control", []))
    return engine.Sites(dict(args.target), external, args.allow_remote, controls).check()


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "report": cmd_report,
    "compare": cmd_compare,
    "serve": cmd_serve,
    "ui": cmd_ui,
    "worker": cmd_worker,
    "init": cmd_init,
}


def main(argv: Sequence[str] | None = None) -> int:
    processes.install_signal_handlers()
    try:
        args = build_parser().parse_args(argv)
    except Interrupted as exc:
        return exc.exit_code
    processes.raise_fd_limit()
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except (
        ResultsError,
        servers.TargetError,
        SummaryError,
        ProjectError,
        starter.StarterError,
        reference.MissingTool,
    ) as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except database.PostgresMissing as exc:  # bad input: the scenario asks for what is not installed
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except servers.BootError as exc:  # a server, or the database or upstream around it (djload.stack)
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_BOOT
    except swarm.SwarmError as exc:
        print(f"djload: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Interrupted as exc:
        return exc.exit_code
    finally:
        with processes.shielded():
            processes.stop_all()
        processes.ignore_signals()


if __name__ == "__main__":
    sys.exit(main())
