"""Settings for the talk's Django project: no templates, DEBUG off, a database only when one is given.

The server mode sets ``DJLOAD_SLEEP`` (seconds a sleeping view waits) and may set
``DJANGO_SECRET_KEY``; ``DJANGO_ALLOWED_HOSTS`` adds host names, e.g. compose service names.
The database and upstream views read ``DJLOAD_DATABASE_URL`` (``sqlite:////abs/file.sqlite3`` or
``postgresql://user:password@host:port/name``, or ``postgresql://user@/name?host=/socket/folder&port=N``
for a server's Unix socket, as libpq writes it), ``DJLOAD_DATABASE_POOL`` (1: psycopg's connection pool),
``DJLOAD_CONN_MAX_AGE`` (Django's CONN_MAX_AGE) and ``DJLOAD_UPSTREAM_URL`` (the service they call).
"""

import os
import secrets
import urllib.parse
from typing import Any

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    host for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host
]

INSTALLED_APPS: list[str] = ["django_adjango.store"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "django_adjango.urls"
USE_TZ = True


def _database(url: str, pool: bool, conn_max_age: int) -> dict[str, Any]:
    """Django's DATABASES entry for a URL; the views that need none work without it."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": urllib.parse.unquote(parts.path),
            "CONN_MAX_AGE": conn_max_age,
            # Writers from many threads or processes: wait for the lock instead of failing at once, take
            # it when the transaction begins (no deadlock on upgrade), and let readers go on beside a
            # writer (WAL), as SQLite is set up for a web site.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parts.scheme in ("postgres", "postgresql"):
        query = dict(urllib.parse.parse_qsl(parts.query))  # a socket: its folder is the host (libpq's rule)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": urllib.parse.unquote(parts.path.lstrip("/")) or "postgres",
            "USER": urllib.parse.unquote(parts.username or ""),
            "PASSWORD": urllib.parse.unquote(parts.password or ""),
            "HOST": query.get("host") or parts.hostname or "",
            "PORT": query.get("port") or str(parts.port or ""),
            # Django refuses a pool together with persistent connections: the pool keeps them instead.
            "CONN_MAX_AGE": 0 if pool else conn_max_age,
            "OPTIONS": {"pool": True} if pool else {},
        }
    raise ValueError(f"DJLOAD_DATABASE_URL: expected sqlite:// or postgresql://, got {url!r}")


_DATABASE_URL = os.environ.get("DJLOAD_DATABASE_URL", "")
DATABASES: dict[str, dict[str, Any]] = (
    {
        "default": _database(
            _DATABASE_URL,
            os.environ.get("DJLOAD_DATABASE_POOL", "0") == "1",
            int(os.environ.get("DJLOAD_CONN_MAX_AGE", "0")),
        )
    }
    if _DATABASE_URL
    else {}
)
UPSTREAM_URL = os.environ.get("DJLOAD_UPSTREAM_URL", "")

SLEEP = float(os.environ.get("DJLOAD_SLEEP", "2"))

# The views' lines go to stderr, one whole line per record: print() from many threads interleaves.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s [%(process)d] %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "django_adjango": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        # With DEBUG off Django would only mail a 500's traceback; the server's log must show it.
        "django": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
