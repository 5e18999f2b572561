"""A closed-model swarm: a fixed count like the talk's `loadtest -n 10 -k URL`, or a fixed duration.

All users wait until every one of them is spawned, then each makes exactly --requests-per-user
requests to --endpoint (plus --query), or keeps making them until --duration seconds have passed,
and stops; when the last user is done the run ends by itself. Locust's core has no request count,
hence the start barrier and StopUser. Records, the barrier, the run's end and distributed runs are
djload's Locust plugin (djload/locust_plugin.py).

Two user classes, chosen by name on locust's command line: FixedCountUser (HttpUser, requests) and
FastFixedCountUser (FastHttpUser, geventhttpclient: several times cheaper per request, the one to
use when measuring throughput).

With --mix each user sends the mix's entries in its own fixed weighted order (djload/mix.py), each
request marked with its entry's number so that the records can be split per entry, and named by its
templated path: a path's placeholders take their values in turn (djload/values.py); with the mix's
login, each user signs in first (djload/locust_login.py), before the start barrier. No request follows
a redirect.
"""

import itertools
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from locust import FastHttpUser, HttpUser, events
from locust.env import Environment
from locust.exception import StopUser

from djload import locust_login, mix, values
from djload.locust_plugin import send_entry, url_path, wait_for_start

users_here = itertools.count()  # this process's users, in the order they start


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--requests-per-user", type=int, default=1, include_in_web_ui=True,
                        help="Requests each user makes before it stops")  # fmt: skip
    parser.add_argument("--duration", type=float, default=0.0, include_in_web_ui=True,
                        help="Seconds each user keeps making requests (instead of a count); 0 means off")  # fmt: skip


def _mix_sender(user: HttpUser | FastHttpUser, spec: dict[str, Any], number: int,
               kwargs: dict[str, Any]) -> Iterator[None]:  # fmt: skip
    """Sends the user's next request of the mix at each step, in the user's own weighted order (what one
    request does, no redirect followed among it: djload.locust_plugin.send_entry)."""
    entries = spec["entries"]
    site = spec.get("site") or {}
    cycle = mix.order([entry["weight"] for entry in entries], sum(entry["weight"] for entry in entries), number)
    users = int(user.environment.parsed_options.num_users or 1)
    sent = [0] * len(entries)  # this user's requests of each entry so far: which of its values comes next
    for index in itertools.cycle(cycle):
        entry = entries[index]
        given = entry.get("values") or {}
        path = values.fill(entry["path"], given, values.index(number, users, sent[index])) if given else entry["path"]
        sent[index] += 1
        send_entry(user, entry, index, path, site, **kwargs)
        yield


def make_requests(user: HttpUser | FastHttpUser) -> None:
    options = user.environment.parsed_options
    url = url_path(options)
    get = user.client.get
    # HttpUser takes the timeout per request, FastHttpUser when its client is made (see below).
    kwargs = {"timeout": options.request_timeout} if isinstance(user, HttpUser) else {}
    spec = json.loads(options.mix) if options.mix else None
    # A number for this user over every locust process: the master hands users out in turn.
    processes = spec["processes"] if spec else 1
    number = next(users_here) * processes + getattr(user.environment.runner, "worker_index", 0)
    sender = _mix_sender(user, spec, number, kwargs) if spec else None
    if spec and spec.get("login"):
        try:  # before the start barrier: the sign-in is no part of the measured run
            locust_login.log_in(user, spec["login"], spec["site"], number, **kwargs)
        except locust_login.LoginFailed:
            raise StopUser() from None
        wait_for_start(lambda: locust_login.all_signed_in(user))
    else:
        wait_for_start()

    def send() -> None:
        if sender:
            next(sender)
        else:
            get(url, name=url, allow_redirects=False, **kwargs)

    try:
        if options.duration:
            deadline = time.monotonic() + options.duration
            while time.monotonic() < deadline:
                send()
        else:
            for _ in range(options.requests_per_user):
                send()
    except Exception:
        # Locust would log it and run the task again, from its first request: the user's count would be
        # sent over and over. The user stops instead; the run is short of records and says so.
        logging.exception("a user stopped on an error of its own")
    raise StopUser()


class FixedCountUser(HttpUser):
    tasks = [make_requests]


class FastFixedCountUser(FastHttpUser):
    tasks = [make_requests]

    def __init__(self, environment: Environment) -> None:
        assert environment.parsed_options is not None
        self.network_timeout = self.connection_timeout = environment.parsed_options.request_timeout
        super().__init__(environment)
