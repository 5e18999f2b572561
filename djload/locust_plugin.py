"""djload's Locust plugin: what every locustfile in locustfiles/ shares. Importing it registers it.

Only locust processes import this module (importing locust monkey-patches the process with gevent;
the orchestrator runs locust as a subprocess and never imports it). A locustfile imports the plugin,
adds its own options and says how its users send; the plugin gives it:

- the shared options: --endpoint (one of the site's paths), --query, --request-timeout, --records-dir,
  --start-file and --mix (a scenario's weighted mix of requests, as JSON; fixed_count.py sends it);
- the start-file wait: djload starts a locust ahead of its turn and creates the file when the turn
  comes, so the wait happens before the run and its --run-time clock start;
- the record listener: every request as a raw record (send time, unrounded latency, status, size,
  error and the site's X-Worker-Pid/X-Thread-Id/X-View-* headers, and the mix's entry from the request's
  context). A request whose context carries a
  "scheduled" wall-clock time (an open model's send schedule) is measured from that time, so that the
  time it waited before being sent counts. While the run lasts a record is a plain tuple; Record
  objects are made at the end, so that the generator spends its time on requests, not bookkeeping;
- the start barrier `all_spawned` (set when every user is spawned; users wait at it with
  `wait_for_start`; with a scenario's `login:`, also until every user of the process has signed in), and
  the run's end when every user has stopped: headless, locust quits; in the web UI the run stops and the
  UI stays;
- distributed runs (a master and workers, local or in other containers): the master releases the
  barrier on every worker at once (Locust forwards spawning_complete to the workers); each worker
  sends its records to the master when its own users are done, and the master ends the run when
  every worker is done;
- the generator's own measure: a worker sends, with its records, the CPU its process used and the time
  its threads waited for a CPU between the start barrier and its users' end; the master saves the reports
  (workers in other containers are out of reach of djload's sampling: see djload.remote);
- saving: the records go to --records-dir as requests-<pid>.csv when the test stops;
- live counts for djload's progress display: while a headless run lasts, each process that sends
  writes its requests and errors so far to --records-dir as progress-<pid>.json, twice a second.
"""

import json
import logging
import os
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import events
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from djload import locust_login, records
from djload.sites import BUNDLED

all_spawned = Event()
raw: list[tuple[Any, ...]] = []  # this process's requests, as the request event gave them
received: list[records.Record] = []  # on a master: the workers' records
workers_done: set[str] = set()  # on a master: the workers whose users are all done
generator_reports: list[dict[str, float]] = []  # on a master: each worker's measure of itself
at_release: list[tuple[float, float, float]] = []  # (wall, CPU, run-queue wait) at the start barrier
DONE_MESSAGE = "djload_done"
exit_at_once = False  # set at init for a headless local runner: see leave()


class SitePaths(list[str]):
    """The site's paths: the web UI's dropdown. On the command line a path may carry its query string."""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and super().__contains__(value.split("?")[0])


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--endpoint", default="/async/non-blocking/", choices=SitePaths(BUNDLED.paths),
                        include_in_web_ui=True, help="The site's path every request goes to")  # fmt: skip
    parser.add_argument("--query", default="", include_in_web_ui=True,
                        help="Query string added to the path, e.g. times=10")  # fmt: skip
    parser.add_argument("--request-timeout", type=float, default=60.0, include_in_web_ui=False,
                        help="Seconds before a request counts as failed")  # fmt: skip
    parser.add_argument("--records-dir", default="", include_in_web_ui=False,
                        help="Folder for the raw per-request records")  # fmt: skip
    parser.add_argument("--start-file", default="", include_in_web_ui=False,
                        help="Wait until this file exists before starting (the run is started ahead)")  # fmt: skip
    parser.add_argument("--mix", default="", include_in_web_ui=False,
                        help="A weighted mix of requests as JSON (instead of --endpoint): "
                             '{"processes": N, "entries": [{"method", "path", "json", "body", "headers", '
                             '"status", "weight"}, ...]}')  # fmt: skip
    parser.add_argument("--input-file", default="", include_in_web_ui=False,
                        help="A file of what no command line may show (any user sees it with ps): the mix with "
                             "its login, and the host with its password. djload writes it, readable by the user "
                             "alone; read at start into --mix and the host")  # fmt: skip


def url_path(options: Any) -> str:
    return str(options.endpoint) + ("?" + options.query if options.query else "")


# Set by locustfiles/your_locustfile.py: a user's own locustfile has no mix, its requests are told apart by
# their Locust names, which each record then keeps.
record_names = False


def send_entry(user: Any, entry: dict[str, Any], index: int, path: str, site: dict[str, str],
               context: dict[str, Any] | None = None, **kwargs: Any) -> None:  # fmt: skip
    """One request of a mix's entry (--mix) to path (its placeholders filled), marked with its entry's number.
    Shared by the closed and the open model's locustfiles.

    No redirect is followed: a record is the answer to the request it names. A redirect to the project's
    LOGIN_URL is an error unless the entry's status asks for exactly it; an unsafe request carries the
    CSRF token (djload.locust_login); `contains` is text the answer must hold; any other answer than the
    status the entry expects (or a 2xx/3xx) is a failure."""
    headers = dict(entry["headers"])
    form = entry.get("form")
    if entry["method"] in locust_login.UNSAFE:
        csrf = locust_login.csrf_headers(user, entry["path"].split("?")[0], site.get("csrf_cookie", "csrftoken"))
        for key, value in csrf.items():
            headers.setdefault(key, value)
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": csrf["X-CSRFToken"]}
    if form is not None:
        data = urllib.parse.urlencode(form)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    else:
        data = entry["json"] if entry["json"] is not None else entry["body"]
    # As UTF-8 bytes: a text body would be encoded as Latin-1 by http.client, and fail on '€'.
    body: Any = data.encode() if data is not None else None
    if entry["json"] is not None:
        headers.setdefault("Content-Type", "application/json")
    name = entry.get("name") or f"{entry['method']} {entry['path']}"
    login_url = site.get("login_url") or ""
    with user.client.request(entry["method"], path, name=name, data=body, headers=headers, catch_response=True,
                             allow_redirects=False, context={**(context or {}), "entry": index},
                             **kwargs) as response:  # fmt: skip
        status = response.status_code
        if status:  # 0: no answer at all; locust reports the connection's error itself
            wanted = entry["status"]
            if 300 <= status < 400 and status != wanted and _to_login(response, login_url):
                response.failure("redirected to the login page: add a `login:` block")
            elif not (status == wanted or wanted is None and 200 <= status < 400):
                response.failure(f"HTTP {status}, expected {wanted or '2xx or 3xx'}")
            elif entry.get("contains") is not None and entry["contains"] not in (response.text or ""):
                response.failure("missing text")
            else:
                response.success()


def _to_login(response: Any, login_url: str) -> bool:
    """Whether a redirect goes to the project's LOGIN_URL (with or without its ?next=)."""
    location = (response.headers or {}).get("Location") or ""
    return bool(login_url) and urllib.parse.urlsplit(location).path == login_url


@events.request.add_listener
def record(start_time: float, response_time: float, response_length: int, response: Any,
           exception: BaseException | None, context: dict[str, Any] | None = None,
           request_type: str = "", name: str = "", **_: Any) -> None:  # fmt: skip
    if context and context.get(locust_login.LOGIN):
        return  # a user's sign-in, before its first counted request: djload.locust_login keeps its own count
    headers = getattr(response, "headers", None) or {}
    scheduled = context.get("scheduled") if context else None
    if scheduled is not None:
        response_time = (start_time + response_time / 1000 - scheduled) * 1000
        start_time = scheduled
    raw.append(
        (start_time, response_time, getattr(response, "status_code", 0), response_length, exception,
         tuple(headers.get(header) for header in records.HEADERS), context.get("entry") if context else None,
         f"{request_type} {name}" if record_names else "")
    )  # fmt: skip


def recorded() -> list[records.Record]:
    """Every record so far: this process's own and, on a master, the workers'."""
    return [records.from_event(*event) for event in raw] + received


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    global exit_at_once
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(DONE_MESSAGE, _worker_done)
    options = environment.parsed_options
    exit_at_once = isinstance(environment.runner, LocalRunner) and bool(options and options.headless)
    if options and options.input_file:
        # A master forwards --mix and the host to its workers over Locust's own channel, never argv.
        given = json.loads(Path(options.input_file).read_text(encoding="utf-8"))
        if given.get("mix"):
            options.mix = json.dumps(given["mix"])
        if given.get("host"):
            environment.host = given["host"]
    path = environment.parsed_options.start_file if environment.parsed_options else ""
    while path and not os.path.exists(path):
        time.sleep(0.005)


@events.quit.add_listener
def leave(exit_code: int, **_: Any) -> None:
    """A headless local runner leaves as soon as Locust has printed its summary and the records are saved.

    Python's teardown of locust, gevent and their modules takes about 0.1 s more, and djload waits for
    the exit before the next run starts. A master reaps its forked workers on the way out and a worker
    answers to its master, so both take the usual way.
    """
    if exit_at_once:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)


@events.test_start.add_listener
def start(environment: Environment, **_: Any) -> None:
    all_spawned.clear()
    raw.clear()
    received.clear()
    workers_done.clear()
    generator_reports.clear()
    locust_login.reset()
    if not isinstance(environment.runner, MasterRunner):  # the master has no users of its own
        gevent.spawn(_end_when_all_done, environment)
        options = environment.parsed_options
        if options and options.headless and options.records_dir and Path(options.records_dir).is_dir():
            gevent.spawn(_write_counts, Path(options.records_dir))


@events.spawning_complete.add_listener
def release(user_count: int, **_: Any) -> None:
    at_release[:] = [_own_times()]
    all_spawned.set()


def wait_for_start(also: Callable[[], bool] | None = None) -> None:
    """A user's wait at the start barrier, until every user is spawned.

    Setting the barrier switches into each waiting user in turn from one callback of gevent's hub, and
    each runs until its first request blocks: nothing else runs meanwhile, no socket is read and no
    heartbeat is sent. With thousands of users per process that took seconds, long enough for a master
    to count its workers missing and stop the run with no request recorded. Yielding once after the wait
    lets the hub resume the users in batches and poll its sockets between them (every few milliseconds).
    """
    all_spawned.wait()
    while also is not None and not also():  # e.g. every user of this process has signed in
        gevent.sleep(0.005)
    gevent.sleep(0)


def _own_times() -> tuple[float, float, float]:
    """(wall clock, this process's CPU including exited threads, its live threads' run-queue wait), seconds."""
    wait = 0.0
    for task in Path("/proc/self/task").glob("*/schedstat"):
        try:
            wait += int(task.read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue
    return time.time(), time.process_time(), wait


def _own_report() -> dict[str, float]:
    """What this process used since the start barrier: the generator's columns where djload cannot sample it."""
    (wall0, cpu0, wait0), (wall1, cpu1, wait1) = at_release[0], _own_times()
    cpu = cpu1 - cpu0
    return {"wall_s": wall1 - wall0, "cpu_s": cpu, "busy_s": cpu + max(0.0, wait1 - wait0)}


@events.test_stop.add_listener
def save(environment: Environment, **_: Any) -> None:
    records_dir = environment.parsed_options.records_dir if environment.parsed_options else ""
    if records_dir and not isinstance(environment.runner, WorkerRunner):  # a worker sends its master its own
        records.write(Path(records_dir) / f"requests-{os.getpid()}.csv", recorded())
        locust_login.save(Path(records_dir))
    if records_dir and generator_reports:
        (Path(records_dir) / records.GENERATOR_REPORTS).write_text(json.dumps(generator_reports))


PROGRESS_INTERVAL_S = 0.5


def _write_counts(folder: Path) -> None:
    """Requests and errors so far, for djload's live progress; counted as they come, never recounted."""
    path, tmp = folder / f"progress-{os.getpid()}.json", folder / f".progress-{os.getpid()}.json.tmp"
    seen = errors = 0
    while True:
        new = raw[seen:]
        seen += len(new)
        errors += sum(1 for event in new if event[4] is not None)
        try:
            tmp.write_text(json.dumps({"done": seen, "errors": errors}))
            os.replace(tmp, path)  # the reader sees the last counts or the new ones, never half a file
        except OSError:  # a full disk: the live count is a nicety, and no half-written file may stay
            tmp.unlink(missing_ok=True)
        gevent.sleep(PROGRESS_INTERVAL_S)


def _end_when_all_done(environment: Environment) -> None:
    runner = environment.runner
    assert runner is not None
    all_spawned.wait()
    while runner.user_count > 0:
        gevent.sleep(0.01)
    if isinstance(runner, WorkerRunner):
        # A worker does not quit by itself: the master would hand its users to the other workers.
        report = _own_report() if at_release else None
        runner.send_message(
            DONE_MESSAGE,
            {"records": [records.as_row(r) for r in recorded()], "generator": report, "logins": locust_login.own()},
        )
    else:
        _end(environment)


def _worker_done(environment: Environment, msg: Any, **_: Any) -> None:
    received.extend(records.Record(*row) for row in msg.data["records"])
    locust_login.add(msg.data.get("logins"))
    if msg.data.get("generator"):
        generator_reports.append(msg.data["generator"])
    workers_done.add(msg.node_id)
    runner = environment.runner
    assert isinstance(runner, MasterRunner)
    if len(workers_done) >= runner.worker_count:
        gevent.spawn(_end, environment)  # not in this handler: quit() kills the greenlet that runs it


def _end(environment: Environment) -> None:
    runner = environment.runner
    assert runner is not None
    options = environment.parsed_options
    if options is None or options.headless:
        runner.quit()
    else:
        runner.stop()  # the web UI stays up for the next run
