"""The table of server modes: each mode is one row with its exact command line and the facts about it
that the ideal model and the report need. Nothing here starts a process.

A mode's command line is built here and nowhere else: ``Mode.command`` gives the argv that servers.py
starts in its own process group.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from djload.limits import DEFAULT_BACKLOG
from djload.sites import Site


class Concurrency(Enum):
    """How many requests a mode lets into the views at once: the queueing rule of the ideal model."""

    WORKERS = "workers"  # one request at a time per worker process
    THREADS = "threads"  # each worker serves `threads` requests at once
    # gevent's monkey-patching makes every blocking call (time.sleep, sockets, a sync HTTP client) yield to
    # the worker's hub: each worker serves up to GEVENT_CONNECTIONS requests at once, sync views included.
    GREENLETS = "greenlets"
    # An event loop per worker overlaps every await; Django's ASGI handler gives each sync view a thread
    # of its own; a blocking call inside an async view stalls the loop.
    EVENT_LOOP = "event loop"


@dataclass(frozen=True)
class Launch:
    """What a server's command line is made of, besides its mode."""

    site: Site
    workers: int
    threads: int
    host: str
    port: int
    access_log: Path
    # Connections that may wait to be accepted: the swarm's all at once (limits.listen_backlog).
    backlog: int = DEFAULT_BACKLOG


# (launch, the application path of the mode's interface) → argv
Launcher = Callable[[Launch, str], list[str]]


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# gunicorn's own default for --worker-connections, written out so that the command line says it.
GEVENT_CONNECTIONS = 1000


def gunicorn(worker_class: str | None = None, *, threads: bool = False, connections: int | None = None) -> Launcher:
    """gunicorn with a worker class (None: its sync worker); threads: pass server.threads on;
    connections: --worker-connections, the requests one gevent worker serves at once."""

    def command(launch: Launch, app: str) -> list[str]:
        argv = [
            sys.executable, "-m", "gunicorn", app,
            "--chdir", str(launch.site.folder),
            "--bind", _bind(launch.host, launch.port),
            "--workers", str(launch.workers),
            "--backlog", str(launch.backlog),
            "--access-logfile", str(launch.access_log),
            "--error-logfile", "-",
            # gunicorn 27 opens ~/.gunicorn/gunicorn.ctl by default, which concurrent servers would share.
            "--no-control-socket",
        ]  # fmt: skip
        if worker_class:
            argv += ["--worker-class", worker_class]
        if threads:
            argv += ["--threads", str(launch.threads)]
        if connections:
            argv += ["--worker-connections", str(connections)]
        return argv

    return command


def uvicorn(launch: Launch, app: str) -> list[str]:
    """uvicorn alone: it writes no access log file (its access lines go to the server log)."""
    return [
        sys.executable, "-m", "uvicorn", app,
        "--app-dir", str(launch.site.folder),
        "--host", launch.host, "--port", str(launch.port),
        "--workers", str(launch.workers),
        "--backlog", str(launch.backlog),
    ]  # fmt: skip


def granian(interface: str) -> Launcher:
    """granian with --interface wsgi or asgi; server.workers are its worker processes.

    Under WSGI each of a worker's blocking threads runs one request at a time, so server.threads maps to
    --blocking-threads (gthread's rule). Under ASGI granian allows one blocking thread (the event loop's)
    and the option is left out. granian writes no access log file: its access lines would go to the
    server log, and they are off, as in its default.
    """

    def command(launch: Launch, app: str) -> list[str]:
        argv = [
            sys.executable, "-m", "granian",
            "--interface", interface,
            "--working-dir", str(launch.site.folder),
            "--host", launch.host, "--port", str(launch.port),
            "--workers", str(launch.workers),
            "--backlog", str(launch.backlog),
        ]  # fmt: skip
        if interface == "wsgi":
            argv += ["--blocking-threads", str(launch.threads)]
        # gunicorn's convention: a module without ":name" serves its "application".
        return [*argv, app if ":" in app else app + ":application"]

    return command


def hypercorn(launch: Launch, app: str) -> list[str]:
    """hypercorn with its asyncio worker class. It has no --chdir: a module path given as a file path
    (folder/package.module:app) puts the folder on sys.path, so the site's folder goes there."""
    module, _, name = app.partition(":")
    return [
        sys.executable, "-m", "hypercorn", f"{launch.site.folder / module}:{name or 'application'}",
        "--bind", _bind(launch.host, launch.port),
        "--workers", str(launch.workers),
        "--worker-class", "asyncio",
        "--backlog", str(launch.backlog),
        "--access-logfile", str(launch.access_log),
        "--error-logfile", "-",
    ]  # fmt: skip


@dataclass(frozen=True)
class Mode:
    name: str
    interface: str  # 'wsgi' or 'asgi': which of Django's handlers serves the requests
    concurrency: Concurrency
    launcher: Launcher
    uses_threads: bool = False  # server.threads means something to it

    def command(self, launch: Launch) -> list[str]:
        return self.launcher(launch, launch.site.application(self.interface))


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("wsgi", "wsgi", Concurrency.WORKERS, gunicorn()),  # the talk
        Mode("wsgi-gthread", "wsgi", Concurrency.THREADS, gunicorn("gthread", threads=True), uses_threads=True),
        Mode("asgi", "asgi", Concurrency.EVENT_LOOP, gunicorn("uvicorn_worker.UvicornWorker")),  # the talk
        Mode("asgi-native", "asgi", Concurrency.EVENT_LOOP, gunicorn("asgi")),  # gunicorn's own asgi worker
        Mode("uvicorn", "asgi", Concurrency.EVENT_LOOP, uvicorn),  # the reference ASGI server alone
        Mode("wsgi-gevent", "wsgi", Concurrency.GREENLETS, gunicorn("gevent", connections=GEVENT_CONNECTIONS)),
        Mode("granian-wsgi", "wsgi", Concurrency.THREADS, granian("wsgi"), uses_threads=True),
        Mode("granian-asgi", "asgi", Concurrency.EVENT_LOOP, granian("asgi")),
        Mode("hypercorn", "asgi", Concurrency.EVENT_LOOP, hypercorn),
    )
}
