"""Runs a user's own Locust file under djload: ``locust -f your_locustfile.py,THEIRS.py`` (djload/userlocust.py).

Their file stays as it is; its user classes are the run's. At init each class's on_start is wrapped, once:

- every user waits at djload's start barrier (all users spawned) before anything else;
- then the plugin's `user_starts(user)`, the one hook point called once per user before its first task
  and before the class's own on_start: where a scenario's `login:` logs the user in;
- each user's client counts its requests: the next one after --requests-per-user, or after --duration
  seconds, stops the user instead of being sent (StopUser), so every user sends exactly its count.

djload's plugin records every request under its Locust name (record_names), and ends the run when
the last user has stopped, as for djload's own swarm.
"""

import time
from typing import Any

from locust import User, events
from locust.env import Environment
from locust.exception import StopUser

from djload import locust_plugin
from djload.locust_plugin import wait_for_start

locust_plugin.record_names = True


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
        wait_for_start()
        options = self.environment.parsed_options
        _limit(self, options.requests_per_user if options else 0, options.duration if options else 0.0)
        locust_plugin.user_starts(self)
        own(self)

    on_start.djload_wrapped = True  # type: ignore[attr-defined]
    user_class.on_start = on_start  # type: ignore[method-assign]


@events.init.add_listener
def wrap_users(environment: Environment, **_: Any) -> None:
    for user_class in environment.user_classes:
        _wrap(user_class)
