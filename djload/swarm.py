"""The locust command line, run as a subprocess, and the raw records it leaves behind.

locust is never imported here: importing it monkey-patches this process with gevent. Every option
is passed explicitly, locust runs in the scenario's own results folder (so no stray ./locust.conf
or pyproject.toml is read) and LOCUST_* variables are dropped from its environment.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from djload import ROOT, headroom, masking, processes, records, summary
from djload.scenario import NORMAL, Scenario
from djload.servers import HOST, check_bind, check_target, free_port, local_url, look, masked, poll

LOCUSTFILE = ROOT / "locustfiles" / "fixed_count.py"
OPEN_MODEL_LOCUSTFILE = ROOT / "locustfiles" / "open_model.py"
USER_CLASSES = {"http": "FixedCountUser", "fast": "FastFixedCountUser"}  # in fixed_count.py
YOUR_LOCUSTFILE = ROOT / "locustfiles" / "your_locustfile.py"  # beside a scenario's `locustfile:`
WEB_UI_LOCUSTFILE = ROOT / "locustfiles" / "web_ui.py"  # the same swarm plus the Slide metrics tab
UI_READY_TIMEOUT_S = 30.0
# Seconds the master may wait for every worker to report its users before it releases the start
# barrier; it releases as soon as all have reported, so this bound only matters if a worker hangs.
WORKERS_REPORT_WAIT_S = 60
WORKERS_CONNECT_WAIT_S = 120  # external workers: containers may still be starting
WORKER_RETRY_S = 1.0
SERVER_GONE_GRACE_S = 2.0
# Past its own --run-time, locust has this long to end before djload stops it and says it hung.
LOCUST_OVERDUE_S = 60.0
POLL_S = 0.05
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
# What locust sends (the mix, the login's accounts and passwords) goes in this file of the scenario's folder,
# readable by the user alone and removed when the swarm ends: a command line is shown to every user by `ps`.
INPUT_FILE = ".locust-input.json"


class SwarmError(Exception):
    """locust itself failed (not the requests it made)."""


def _failed(how: str, log: Path) -> str:
    """One line: how locust ended, and the line of its log that says why (its password masked)."""
    why = processes.cause(log)
    # The log named as the results folder will hold it: the folder is renamed when the run ends.
    return masked(f"locust {how}" + (f": {why}" if why else "") + f" (see {log.parent.name}/{log.name})")


def run_time_limit_s(scenario: Scenario) -> int:
    """A backstop only: each user's requests run one after another, each bounded by the timeout."""
    return math.ceil(scenario.swarm.longest_s - scenario.swarm.warmup * scenario.swarm.timeout_s + 30)


@dataclass(frozen=True)
class Address:
    """HOST:PORT of a Locust master."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    def check(self, allow_remote: bool) -> None:
        check_target(f"http://{self}", allow_remote)  # the same gate as every other address


def worker_command(master: Address) -> list[str]:
    """A Locust worker of the fixed-count swarm; the master sends it the scenario's options."""
    return [
        sys.executable, "-m", "locust",
        "--locustfile", str(LOCUSTFILE),
        "--worker",
        "--master-host", master.host,
        "--master-port", str(master.port),
        "--exit-code-on-error", "0",
        "--loglevel", "INFO",
    ]  # fmt: skip


@dataclass(frozen=True)
class Master:
    """Where a distributed run's master listens, and whether its workers are forked or started elsewhere."""

    address: Address
    external: bool = False  # workers started with `djload worker`, e.g. in other containers


def local_master() -> Master:
    """A free loopback port: Locust's default (5557 on every interface) would collide with any other run."""
    return Master(Address(HOST, free_port()))


@dataclass(frozen=True)
class SwarmSpec:
    """One swarm: the scenario's load, the site it goes to, and the folder its records and log go to."""

    scenario: Scenario
    host: str  # the site's base URL
    out_dir: Path
    master: Master | None = None  # a distributed run's master; None: a local one where swarm.processes > 1
    allow_remote: bool = False  # a host (or master) beyond loopback


@dataclass(frozen=True)
class WebUI:
    """Where Locust's web UI listens, and the other sites (one per server mode) it may start runs against."""

    port: int
    host: str = HOST
    other_hosts: Sequence[str] = ()
    # What a run started from the UI's form may ask for: the form is free text (djload.scenario's budget).
    max_users: int = NORMAL.users
    max_requests: int = NORMAL.requests


def distribution(processes: int, master: Master | None = None) -> list[str]:
    """One process runs Locust's local runner; N > 1 run a real master and N forked workers.

    Locust's own --processes forks the workers from the master: one command, one process group to
    stop, and the master gets the workers' records over Locust's own channel (see the locustfile).
    An external master waits for N workers started elsewhere, up to WORKERS_CONNECT_WAIT_S.
    """
    if master is None and processes == 1:
        return []
    master = master or local_master()
    bind = ["--master-bind-host", master.address.host, "--master-bind-port", str(master.address.port)]
    if master.external:
        return ["--master", *bind, "--expect-workers", str(processes),
                "--expect-workers-max-wait", str(WORKERS_CONNECT_WAIT_S)]  # fmt: skip
    connect = ["--master-host", master.address.host, "--master-port", str(master.address.port)]
    return ["--processes", str(processes), *bind, *connect]


def _fixed_count(spec: SwarmSpec) -> list[str]:
    """The swarm as the scenario says, for headless runs and the web UI alike."""
    swarm = spec.scenario.swarm
    length = ["--duration", f"{swarm.duration_s:g}"] if swarm.duration_s is not None else []
    return [
        *_common(spec, swarm.users, swarm.effective_spawn_rate),
        "--requests-per-user", str(swarm.requests_per_user),
        *length,
    ]  # fmt: skip


def _common(spec: SwarmSpec, users: int, spawn_rate: float) -> list[str]:
    scenario = spec.scenario
    return [
        sys.executable, "-m", "locust",
        "--host", masking.without_userinfo(spec.host),  # its user and password go in the input file
        "--users", str(users),
        "--spawn-rate", f"{spawn_rate:g}",
        "--stop-timeout", "0",
        # Failed requests are counted from the records; a non-zero exit means locust itself failed.
        "--exit-code-on-error", "0",
        "--loglevel", "INFO",
        *_target(spec),
        "--request-timeout", f"{scenario.swarm.timeout_s:g}",
    ]  # fmt: skip


def _target(spec: SwarmSpec) -> list[str]:
    """One endpoint of the bundled site, a user's locustfile (its requests are its own), or the scenario's
    mix, which locust reads from its input file."""
    scenario = spec.scenario
    given = ["--input-file", str(spec.out_dir / INPUT_FILE)] if locust_input(spec) else []
    if scenario.locustfile:
        return given
    if not scenario.requests:
        return ["--endpoint", scenario.endpoint.path, "--query", scenario.endpoint.query_string, *given]
    return given


def locust_input(spec: SwarmSpec) -> dict[str, Any] | None:
    """What locust must not get on its command line: the mix (what its users send, how they sign in) and
    the host with its user and password; None when there is neither."""
    host = spec.host if masking.without_userinfo(spec.host) != spec.host else None
    mix = _mix(spec.scenario)
    return {"mix": mix, "host": host} if mix or host else None


def _mix(scenario: Scenario) -> dict[str, Any] | None:
    """The mix's entries and how its users sign in; a user's own locustfile has no entries, but may sign in."""
    if not scenario.requests and not (scenario.locustfile and scenario.login):
        return None
    site = scenario.site
    return {
        "processes": scenario.swarm.processes,
        "entries": [request.as_json() for request in scenario.requests],
        "login": scenario.login.as_json() if scenario.login else None,
        "site": {"login_url": site.login_url, "session_cookie": site.session_cookie, "csrf_cookie": site.csrf_cookie},
    }


def write_input(spec: SwarmSpec) -> None:
    """The input file, made readable by the user alone before a byte of it is written."""
    data = locust_input(spec)
    if data is None:
        return
    path = spec.out_dir / INPUT_FILE
    path.unlink(missing_ok=True)  # a file another left here is not written through
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(data, file, separators=(",", ":"))


def remove_input(out_dir: Path) -> None:
    (out_dir / INPUT_FILE).unlink(missing_ok=True)


def _open_model(spec: SwarmSpec) -> list[str]:
    """One user sends on schedule; swarm.users bounds the connections it keeps open."""
    swarm = spec.scenario.swarm
    return [
        *_common(spec, 1, 1),
        "--locustfile", str(OPEN_MODEL_LOCUSTFILE),
        "--rate", f"{swarm.rate:g}",
        "--duration", f"{swarm.duration_s:g}",
        "--connections", str(swarm.users),
    ]  # fmt: skip


def command(spec: SwarmSpec, start_file: Path | None = None) -> list[str]:
    """locust's command line for a headless run; with start_file, locust waits for it before its clock starts."""
    scenario = spec.scenario
    swarm = scenario.swarm
    fixed_count = swarm.model == "closed"
    # A user's own locustfile runs beside ours, which holds its users to djload's count (djload.userlocust).
    own = scenario.locustfile
    locustfiles = f"{YOUR_LOCUSTFILE},{own.path}" if own else str(LOCUSTFILE)
    swarm_args = [*_fixed_count(spec), "--locustfile", locustfiles] if fixed_count else _open_model(spec)
    argv = [
        *swarm_args,
        "--headless",
        "--run-time", f"{run_time_limit_s(scenario)}s",
        "--only-summary",
        "--records-dir", str(spec.out_dir),
        *(["--start-file", str(start_file)] if start_file else []),
    ]  # fmt: skip
    if swarm.model == "closed":
        argv += [
            *distribution(swarm.processes, spec.master),
            *([] if own else [USER_CLASSES[swarm.user_class]]),
        ]  # locust runs only the class named; a user's locustfile, its own classes
    return processes.pinned(argv, scenario.cpus.generator)


def ui_command(spec: SwarmSpec, ui: WebUI) -> list[str]:
    """Locust's web UI with the form prefilled from the scenario; one process, whatever swarm.processes says.
    Each run it starts is saved in the spec's folder.

    The UI's host field is free text: the UI starts runs only against the spec's host and the other
    hosts, which djload has checked, so that a typo cannot send load to someone else's site.
    """
    return [
        *_fixed_count(spec),
        "--locustfile", str(WEB_UI_LOCUSTFILE),
        "--web-host", ui.host,
        "--web-port", str(ui.port),
        "--results-dir", str(spec.out_dir),
        "--asked", json.dumps(summary.Asked.of(spec.scenario).to_json()),
        "--allowed-hosts", ",".join([spec.host, *ui.other_hosts]),
        "--max-users", str(ui.max_users),
        "--max-requests", str(ui.max_requests),
    ]  # fmt: skip


def environment() -> dict[str, str]:
    # No LOCUST_* option from outside, and no proxy that would carry the load off this machine.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LOCUST_") and key.lower() not in PROXY_VARIABLES
    }
    # Not a command-line option in Locust: the master's wait for the workers' user reports.
    env["LOCUST_WAIT_FOR_WORKERS_REPORT_AFTER_RAMP_UP"] = str(WORKERS_REPORT_WAIT_S)
    # gevent resolves host names in a thread pool by default, and FastHttpUser resolves again for
    # every new connection (gunicorn's sync worker closes each one): two thread switches per request.
    # The host is always a literal loopback address, which getaddrinfo answers without blocking.
    env["GEVENT_RESOLVER"] = "block"
    return env


def collect(records_dir: Path) -> list[records.Record]:
    """Merge the per-process record files into one requests.csv, ordered by send time."""
    parts = sorted(records_dir.glob("requests-*.csv"))
    merged = sorted(records.read_all(parts), key=lambda r: r.start)
    records.write(records_dir / "requests.csv", merged)
    for part in parts:
        part.unlink()
    return merged


def logins(folder: Path) -> dict[str, Any] | None:
    """The run's sign-ins from the files its locust processes left (then removed): {"users": how many
    signed in, "mean_ms": their mean time, "failures": [each failed one]}; None when no user signs in."""
    times: list[float] = []
    failures: list[str] = []
    for part in sorted(folder.glob(records.LOGINS.format(pid="*"))):
        data = json.loads(part.read_text())
        times += data.get("times_ms", [])
        failures += data.get("failures", [])
        part.unlink()
    if not times and not failures:
        return None
    return {"users": len(times), "mean_ms": round(sum(times) / len(times), 3) if times else None, "failures": failures}


def _start(argv: list[str], log: Path, spec: SwarmSpec) -> subprocess.Popen[bytes]:
    try:
        write_input(spec)
        return processes.start(argv, log, cwd=spec.out_dir, env=environment())
    except OSError as exc:  # e.g. a command line longer than the system takes
        remove_input(spec.out_dir)
        raise SwarmError(f"locust cannot start: {exc.strerror}") from None


@dataclass(frozen=True)
class Started:
    """A locust started ahead of its run, waiting (before its clock starts) for start_file to exist."""

    process: subprocess.Popen[bytes]
    argv: list[str]
    start_file: Path

    def discard(self) -> None:
        """Stop it unused, and remove what it was to read."""
        processes.stop(self.process)
        remove_input(self.start_file.parent)


def start_ahead(spec: SwarmSpec) -> Started:
    """Start a one-process swarm now and let it wait; run(started=...) lets it go.

    Starting Python and importing locust takes about 0.4 s: done while the previous run waits, the next
    run begins at once. The wait happens in locust's init event, before its --run-time clock starts.
    """
    check_target(spec.host, spec.allow_remote)
    start_file = spec.out_dir / "locust.go"
    argv = command(spec, start_file)
    process = _start(argv, spec.out_dir / "locust.log", spec)
    return Started(process, argv, start_file)


def run(
    spec: SwarmSpec,
    *,
    server: subprocess.Popen[bytes] | None = None,
    monitor: headroom.Monitor | None = None,
    while_running: Callable[[], None] | None = None,
    started: Started | None = None,
    death: Callable[[], str] | None = None,
) -> list[records.Record]:
    """Run the swarm (or let the one started ahead for it go) and return its records, ordered by send
    time; if the server process given dies, or death() names one (djload.deaths), stop locust soon after.

    Requests to a dead server fail at once (refused or reset), so locust usually ends by itself;
    the grace period only bounds the wait when something keeps a connection hanging.
    """
    check_target(spec.host, spec.allow_remote)
    master = spec.master
    if master:
        master.address.check(spec.allow_remote)
    out_dir = spec.out_dir
    log = out_dir / "locust.log"
    if started:
        process = started.process
        started.start_file.touch()
    else:
        process = _start(command(spec), log, spec)
    if monitor:
        monitor.watch("generator", process.pid)
    overdue = run_time_limit_s(spec.scenario) + LOCUST_OVERDUE_S + (WORKERS_CONNECT_WAIT_S if master else 0)
    deadline = time.monotonic() + overdue
    hung = False
    try:
        server_gone_at: float | None = None
        while process.poll() is None:
            if while_running:
                while_running()
            if server_gone_at is None and (server is not None and server.poll() is not None or death and death()):
                server_gone_at = time.monotonic()
            if server_gone_at is not None and time.monotonic() - server_gone_at > SERVER_GONE_GRACE_S:
                break
            if time.monotonic() > deadline:
                hung = True
                break
            # Not a sleep: the wait returns as locust exits, and the next run starts that much sooner.
            with suppress(subprocess.TimeoutExpired):
                process.wait(POLL_S)
    finally:
        processes.stop(process)  # SIGINT: locust still writes the records it has
        remove_input(out_dir)
        if started:
            started.start_file.unlink(missing_ok=True)
    returncode = process.returncode
    if hung:
        raise SwarmError(_failed(f"did not end within {overdue:g} s and was stopped", log))
    if returncode != 0 and server_gone_at is None:
        raise SwarmError(_failed(processes.describe_exit(returncode), log))
    return collect(out_dir)


@dataclass(frozen=True)
class RunningUI:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


@contextmanager
def web_ui(spec: SwarmSpec, ui: WebUI) -> Iterator[RunningUI]:
    """Start Locust's web UI for the scenario, yield its URL once it answers, always stop it afterwards."""
    for url in (spec.host, *ui.other_hosts):
        check_target(url, spec.allow_remote)
    check_bind(ui.host, ui.port, spec.allow_remote)
    log = spec.out_dir / "locust.log"
    process = _start(ui_command(spec, ui), log, spec)
    url = local_url(ui.host, ui.port) + "/"

    def answered() -> bool:
        if process.poll() is not None:
            raise SwarmError(_failed(processes.describe_exit(process.returncode), log))
        answer = look(url)
        return answer is not None and answer[0] == 200

    try:
        if not poll(answered, time.monotonic(), UI_READY_TIMEOUT_S, interval_s=0.1):
            raise SwarmError(f"locust's web UI did not answer {url} within {UI_READY_TIMEOUT_S:g} s")
        yield RunningUI(process, url, log)
    finally:
        processes.stop(process)
        remove_input(spec.out_dir)


def serve_workers(master: Address, log: Path, allow_remote: bool = False) -> None:
    """Run one Locust worker after another for the master at master, until interrupted.

    Each run of `djload run` starts a new master per scenario and ends it with its workers, so a
    long-lived worker (a container) starts a fresh locust worker for the next one.
    """
    master.check(allow_remote)
    with tempfile.TemporaryDirectory(prefix="djload-worker-") as cwd:
        while True:
            started = time.monotonic()
            process = processes.start(worker_command(master), log, cwd=Path(cwd), env=environment(), append=True)
            try:
                process.wait()
            finally:
                processes.stop(process)
            if time.monotonic() - started < WORKER_RETRY_S:  # no master yet, or it refused us
                time.sleep(WORKER_RETRY_S)
