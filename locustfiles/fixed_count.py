"""A closed-model swarm: a fixed count like the talk's `loadtest -n 10 -k URL`, or a fixed duration.

All users wait until every one of them is spawned, then each makes exactly --requests-per-user
requests to --endpoint (plus --query), or keeps making them until --duration seconds have passed,
and stops; when the last user is done the run ends by itself (headless: locust quits; web UI: the
run stops and the UI stays). Locust's core has no request count, hence the start barrier and
StopUser.

Two user classes, chosen by name on locust's command line: FixedCountUser (HttpUser, requests) and
FastFixedCountUser (FastHttpUser, geventhttpclient: several times cheaper per request, the one to
use when measuring throughput).

Every request is kept as a raw record (send time, unrounded latency, status, size, error, and the
site's X-Worker-Pid/X-Thread-Id/X-View-* headers) and written to --records-dir when the test stops.
While the run lasts a record is a plain tuple; Record objects are made at the end, so that the
generator spends its time on requests, not on bookkeeping.

Distributed (a master and worker processes, local or in other containers): the master releases the
barrier on every worker at once (Locust forwards its spawning_complete to the workers); each worker
sends its records to the master when its own users are done, and the master ends the run when every
worker is done and writes all the records.
"""

import os
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import FastHttpUser, HttpUser, events
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from djload import records
from djload.scenario import site_endpoints

all_spawned = Event()
raw: list[tuple[Any, ...]] = []  # this process's requests, as the request event gave them
received: list[records.Record] = []  # on a master: the workers' records
workers_done: set[str] = set()  # on a master: the workers whose users are all done


class SitePaths(list[str]):
    """The site's paths: the web UI's dropdown. On the command line a path may carry its query string."""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and super().__contains__(value.split("?")[0])


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--endpoint", default="/async/non-blocking/", choices=SitePaths(site_endpoints()),
                        include_in_web_ui=True, help="The site's path every request goes to")  # fmt: skip
    parser.add_argument("--query", default="", include_in_web_ui=True,
                        help="Query string added to the path, e.g. times=10")  # fmt: skip
    parser.add_argument("--requests-per-user", type=int, default=1, include_in_web_ui=True,
                        help="Requests each user makes before it stops")  # fmt: skip
    parser.add_argument("--duration", type=float, default=0.0, include_in_web_ui=True,
                        help="Seconds each user keeps making requests (instead of a count); 0 means off")  # fmt: skip
    parser.add_argument("--request-timeout", type=float, default=60.0, include_in_web_ui=False,
                        help="Seconds before a request counts as failed")  # fmt: skip
    parser.add_argument("--records-dir", default="", include_in_web_ui=False,
                        help="Folder for the raw per-request records")  # fmt: skip
    parser.add_argument("--start-file", default="", include_in_web_ui=False,
                        help="Wait until this file exists before starting (the run is started ahead)")  # fmt: skip


def url_path(options: Any) -> str:
    return str(options.endpoint) + ("?" + options.query if options.query else "")


@events.request.add_listener
def record(start_time: float, response_time: float, response_length: int, response: Any,
           exception: BaseException | None, **_: Any) -> None:  # fmt: skip
    headers = getattr(response, "headers", None) or {}
    raw.append(
        (start_time, response_time, getattr(response, "status_code", 0), response_length, exception,
         tuple(headers.get(name) for name in records.HEADERS))
    )  # fmt: skip


def recorded() -> list[records.Record]:
    """Every record so far: this process's own and, on a master, the workers'."""
    return [records.from_event(*event) for event in raw] + received


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message("djload_done", worker_done)
    # Before the run and its --run-time clock start: djload started this locust ahead of its turn.
    path = environment.parsed_options.start_file if environment.parsed_options else ""
    while path and not os.path.exists(path):
        time.sleep(0.005)


@events.test_start.add_listener
def start(environment: Environment, **_: Any) -> None:
    all_spawned.clear()
    raw.clear()
    received.clear()
    workers_done.clear()
    if not isinstance(environment.runner, MasterRunner):  # the master has no users of its own
        gevent.spawn(_end_when_all_done, environment)


@events.spawning_complete.add_listener
def release(user_count: int, **_: Any) -> None:
    all_spawned.set()


@events.test_stop.add_listener
def save(environment: Environment, **_: Any) -> None:
    records_dir = environment.parsed_options.records_dir if environment.parsed_options else ""
    if records_dir and not isinstance(environment.runner, WorkerRunner):
        records.write(Path(records_dir) / f"requests-{os.getpid()}.csv", recorded())


def _end_when_all_done(environment: Environment) -> None:
    runner = environment.runner
    assert runner is not None
    all_spawned.wait()
    while runner.user_count > 0:
        gevent.sleep(0.01)
    if isinstance(runner, WorkerRunner):
        # A worker does not quit by itself: the master would hand its users to the other workers.
        runner.send_message("djload_done", {"records": [records.as_row(r) for r in recorded()]})
    else:
        _end(environment)


def worker_done(environment: Environment, msg: Any, **_: Any) -> None:
    received.extend(records.Record(*row) for row in msg.data["records"])
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


def make_requests(user: HttpUser | FastHttpUser) -> None:
    options = user.environment.parsed_options
    url = url_path(options)
    get = user.client.get
    # HttpUser takes the timeout per request, FastHttpUser when its client is made (see below).
    kwargs = {"timeout": options.request_timeout} if isinstance(user, HttpUser) else {}
    all_spawned.wait()
    if options.duration:
        deadline = time.monotonic() + options.duration
        while time.monotonic() < deadline:
            get(url, name=url, **kwargs)
    else:
        for _ in range(options.requests_per_user):
            get(url, name=url, **kwargs)
    raise StopUser()


class FixedCountUser(HttpUser):
    tasks = [make_requests]


class FastFixedCountUser(FastHttpUser):
    tasks = [make_requests]

    def __init__(self, environment: Environment) -> None:
        assert environment.parsed_options is not None
        self.network_timeout = self.connection_timeout = environment.parsed_options.request_timeout
        super().__init__(environment)
