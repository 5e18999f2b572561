"""A closed-model swarm: a fixed count like the talk's `loadtest -n 10 -k URL`, or a fixed duration.

All users wait until every one of them is spawned, then each makes exactly --requests-per-user
requests to --endpoint (plus --query), or keeps making them until --duration seconds have passed,
and stops; when the last user is done the run ends by itself. Locust's core has no request count,
hence the start barrier and StopUser. Records, the barrier, the run's end and distributed runs are
djload's Locust plugin (djload/locust_plugin.py).

Two user classes, chosen by name on locust's command line: FixedCountUser (HttpUser, requests) and
FastFixedCountUser (FastHttpUser, geventhttpclient: several times cheaper per request, the one to
use when measuring throughput).
"""

import time
from typing import Any

from locust import FastHttpUser, HttpUser, events
from locust.env import Environment
from locust.exception import StopUser

from djload.locust_plugin import url_path, wait_for_start


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--requests-per-user", type=int, default=1, include_in_web_ui=True,
                        help="Requests each user makes before it stops")  # fmt: skip
    parser.add_argument("--duration", type=float, default=0.0, include_in_web_ui=True,
                        help="Seconds each user keeps making requests (instead of a count); 0 means off")  # fmt: skip


def make_requests(user: HttpUser | FastHttpUser) -> None:
    options = user.environment.parsed_options
    url = url_path(options)
    get = user.client.get
    # HttpUser takes the timeout per request, FastHttpUser when its client is made (see below).
    kwargs = {"timeout": options.request_timeout} if isinstance(user, HttpUser) else {}
    wait_for_start()
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
