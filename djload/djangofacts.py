"""What a user's Django project's settings say about the cost of each request, as its probe read them.

Read in the project's own subprocess (djload/urlprobe.py) with its settings as its server loads them,
never in djload's process. These are values; djload.diagnosis says what they cost under each mode.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Middleware:
    """One entry of settings.MIDDLEWARE, with the flags Django's handler reads to decide how to call it."""

    path: str  # the dotted path, as MIDDLEWARE spells it
    # Django's defaults where the middleware says nothing (a plain function or class): sync only.
    sync_capable: bool = True
    async_capable: bool = False
    # Its process_view hook, called on every request that reaches a view: None when it has none, else
    # whether it is a coroutine function (Django adapts it to the handler's mode like a middleware).
    view_hook_async: bool | None = None


@dataclass(frozen=True)
class Database:
    """One entry of settings.DATABASES, as far as a server mode cares."""

    alias: str
    engine: str  # the backend's module, e.g. "django.db.backends.postgresql"
    conn_max_age: float | None  # seconds a connection is kept; None: for ever
    pool: bool  # OPTIONS["pool"] (PostgreSQL's connection pool, Django 5.1+)


@dataclass(frozen=True)
class DjangoFacts:
    middleware: tuple[Middleware, ...] = ()
    databases: tuple[Database, ...] = ()

    @classmethod
    def from_probe(cls, data: Mapping[str, Any]) -> "DjangoFacts":
        """From the probe's JSON ("middleware" and "databases" lists); empty for a probe that had none."""
        return cls(
            tuple(
                Middleware(str(m["path"]), bool(m["sync_capable"]), bool(m["async_capable"]), m.get("view_hook_async"))
                for m in data.get("middleware", [])
            ),
            tuple(
                Database(str(d["alias"]), str(d["engine"]), d["conn_max_age"], bool(d["pool"]))
                for d in data.get("databases", [])
            ),
        )
