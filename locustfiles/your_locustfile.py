"""Runs a user's own Locust file under djload: ``locust -f your_locustfile.py,THEIRS.py`` (djload/userlocust.py).

Their file stays as it is; its user classes are the run's. At init each class's on_start is wrapped, once:

- with the scenario's `login:`, every user first signs in through the project's form
  (djload/locust_login.py), then waits at djload's start barrier (all users spawned and signed in) before
  anything else, so that the sign-in is no part of the measured run and no request it counts;
- each user's client counts its requests: the next one after --requests-per-user, or after --duration
  seconds, stops the user instead of being sent (StopUser), so every user sends exactly its count.

djload's plugin records every request under its Locust name (record_names), and ends the run when
the last user has stopped, as for djload's own swarm.
"""

import itertools
import json
import time
from typing import Any

from locust import HttpUser, User, events
from locust.env import Environment
from locust.exception import StopUser

from djload import locust_login, locust_plugin
from djload.locust_plugin import wait_for_start

locust_plugin.record_names = True
users_here = itertools.count()  # this process's users, in the order they start


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--requests-per-user", type=int, default=0, include_in_web_ui=False,
                        help="Requests each user makes before it stops; 0 means no count")  # fmt: skip
    parser.add_argument("--duration", type=float, default=0.0, include_in_web_ui=False,
                        help="Seconds each user keeps making requests (instead of a count); 0 means off")  # fmt: skip


def _limit(user: User, count: int, duration_s: float) -> None:
    """Stop the user at its request number count + 1, or at its first request after duration_s seconds."""
    client = getattr(user, "client", None)
    if client is None:
        return
    send = client.request
    deadline = time.monotonic() + duration_s if duration_s else None
    count = 0 if deadline is not None else count  # a duration instead of a count, as djload's own swarm
    sent = 0

    def request(*args: Any, **kwargs: Any) -> Any:
        nonlocal sent
        if count and sent >= count or deadline is not None and time.monotonic() >= deadline:
            raise StopUser()
        sent += 1
        return send(*args, **kwargs)

    # Both of Locust's clients send every verb (get, post, …) through their own request method.
    client.request = request


def _wrap(user_class: type[User]) -> None:
    own = user_class.on_start
    if getattr(own, "djload_wrapped", False):
        return  # inherited from a class wrapped already

    def on_start(self: User) -> None:
        options = self.environment.parsed_options
        spec = json.loads(options.mix) if options and options.mix else None
        if spec and spec.get("login"):
            # A number for this user over every locust process (the master hands users out in turn): which
            # account it signs in with.
            number = next(users_here) * spec["processes"] + getattr(self.environment.runner, "worker_index", 0)
            # HttpUser takes the timeout per request, FastHttpUser when its client is made.
            timeout = {"timeout": options.request_timeout} if isinstance(self, HttpUser) else {}
            try:
                locust_login.log_in(self, spec["login"], spec["site"], number, **timeout)
            except locust_login.LoginFailed:
                raise StopUser() from None
            wait_for_start(lambda: locust_login.all_signed_in(self))
        else:
            wait_for_start()
        _limit(self, options.requests_per_user if options else 0, options.duration if options else 0.0)
        own(self)

    on_start.djload_wrapped = True  # type: ignore[attr-defined]
    user_class.on_start = on_start  # type: ignore[method-assign]


@events.init.add_listener
def wrap_users(environment: Environment, **_: Any) -> None:
    for user_class in environment.user_classes:
        _wrap(user_class)
