"""An open-model swarm: requests sent at fixed times, whatever the server's answers are doing.

The closed model (fixed_count.py) has a fixed number of users, each waiting for its answer before
sending the next request: when the server slows down, the users slow down with it and the waiting
that real, independent clients would have seen is never measured (coordinated omission). Here
request i is scheduled at t0 + i / --rate and its latency is measured from that scheduled time, so
time spent queueing — for a free connection, in the listen backlog, behind a busy worker — counts.

One user drives the schedule and sends each request from its own greenlet; its FastHttpUser client
keeps at most --connections connections open at once. The run sends rate × --duration requests,
waits for the last answer and ends by itself.
"""

import os
import time
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

from djload import records

recorded: list[tuple[Any, ...]] = []


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--endpoint", default="/async/non-blocking/", help="The site's path every request goes to")
    parser.add_argument("--query", default="", help="Query string added to the path, e.g. times=10")
    parser.add_argument("--rate", type=float, default=10.0, help="Requests per second, sent at fixed times")
    parser.add_argument("--duration", type=float, default=1.0, help="Seconds of sending; rate × duration requests")
    parser.add_argument("--connections", type=int, default=10, help="At most this many connections at once")
    parser.add_argument("--request-timeout", type=float, default=60.0, help="Seconds before a request fails")
    parser.add_argument("--records-dir", default="", help="Folder for the raw per-request records")
    parser.add_argument("--start-file", default="", help="Wait until this file exists before starting")


@events.request.add_listener
def record(start_time: float, response_time: float, response_length: int, response: Any,
           exception: BaseException | None, context: dict[str, Any], **_: Any) -> None:  # fmt: skip
    headers = getattr(response, "headers", None) or {}
    scheduled = context["scheduled"]
    recorded.append(
        (scheduled, (start_time + response_time / 1000 - scheduled) * 1000, getattr(response, "status_code", 0),
         response_length, exception, tuple(headers.get(name) for name in records.HEADERS))
    )  # fmt: skip


@events.init.add_listener
def wait_for_start_file(environment: Environment, **_: Any) -> None:
    # Before the run and its --run-time clock start: djload started this locust ahead of its turn.
    path = environment.parsed_options.start_file if environment.parsed_options else ""
    while path and not os.path.exists(path):
        time.sleep(0.005)


@events.test_start.add_listener
def start(environment: Environment, **_: Any) -> None:
    recorded.clear()
    gevent.spawn(_end_when_done, environment)


@events.test_stop.add_listener
def save(environment: Environment, **_: Any) -> None:
    records_dir = environment.parsed_options.records_dir if environment.parsed_options else ""
    if records_dir:
        path = Path(records_dir) / "requests-open.csv"
        records.write(path, (records.from_event(*raw) for raw in recorded))


def _end_when_done(environment: Environment) -> None:
    runner = environment.runner
    assert runner is not None
    while runner.user_count == 0:
        gevent.sleep(0.01)
    while runner.user_count > 0:
        gevent.sleep(0.01)
    runner.quit()


class OpenModelUser(FastHttpUser):
    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        assert options is not None
        self.concurrency = options.connections
        self.network_timeout = self.connection_timeout = options.request_timeout
        super().__init__(environment)

    @task
    def send_on_schedule(self) -> None:
        options = self.environment.parsed_options
        count = round(options.rate * options.duration)
        url = options.endpoint + ("?" + options.query if options.query else "")
        # Scheduled times are kept on the wall clock because records carry wall-clock send times;
        # the sleeps use the monotonic clock so that a clock step cannot bunch requests together.
        wall0, mono0 = time.time(), time.monotonic()
        sending = []
        for i in range(count):
            offset = i / options.rate
            delay = mono0 + offset - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            context = {"scheduled": wall0 + offset}
            sending.append(gevent.spawn(self.client.get, url, name=url, context=context))
        gevent.joinall(sending)
        raise StopUser()
