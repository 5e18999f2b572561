"""The table of server modes → exact command lines; boot, readiness and stop of the site.

Each mode's command line is built here and nowhere else. The server runs in its own process group
so that stopping it stops gunicorn's master and every worker it forked.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from djload import processes
from djload.scenario import ROOT, Scenario, Server

SITE_DIR = ROOT / "site"
HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Mode:
    description: str
    app: str
    worker_class: str | None = None  # gunicorn -k; None means plain uvicorn, no gunicorn
    uses_threads: bool = False


MODES: dict[str, Mode] = {
    "wsgi": Mode("gunicorn, sync workers (the talk)", "django_adjango.wsgi"),
    "wsgi-gthread": Mode("gunicorn, gthread workers", "django_adjango.wsgi", "gthread", uses_threads=True),
    "asgi": Mode(
        "gunicorn + uvicorn worker (the talk)", "django_adjango.asgi:application", "uvicorn_worker.UvicornWorker"
    ),
    "asgi-native": Mode("gunicorn's own asgi worker", "django_adjango.asgi:application", "asgi"),
    "uvicorn": Mode("uvicorn alone, the reference ASGI server", "django_adjango.asgi:application"),
}


class BootError(Exception):
    """The server exited or never answered /health/; the message ends with its last log lines."""


def command(server: Server, port: int, access_log: Path) -> list[str]:
    mode = MODES[server.mode]
    if server.mode == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", mode.app,
            "--app-dir", str(SITE_DIR),
            "--host", HOST, "--port", str(port),
            "--workers", str(server.workers),
        ]  # fmt: skip
    argv = [
        sys.executable, "-m", "gunicorn", mode.app,
        "--chdir", str(SITE_DIR),
        "--bind", f"{HOST}:{port}",
        "--workers", str(server.workers),
        "--access-logfile", str(access_log),
        "--error-logfile", "-",
        # gunicorn 27 opens ~/.gunicorn/gunicorn.ctl by default, which concurrent servers would share.
        "--no-control-socket",
    ]  # fmt: skip
    if mode.worker_class:
        argv += ["--worker-class", mode.worker_class]
    if mode.uses_threads:
        argv += ["--threads", str(server.threads)]
    return argv


def environment(scenario: Scenario) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="django_adjango.settings",
        DJLOAD_SLEEP=repr(scenario.sleep),
        PYTHONUNBUFFERED="1",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    argv: list[str]
    base_url: str
    log: Path
    boot_s: float = 0.0


def _ours(process: subprocess.Popen[bytes], pid: str) -> bool:
    """Whether the answering worker belongs to our server, not to another one on the same port."""
    try:
        tree = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    return pid in {str(process.pid)} | {str(child.pid) for child in tree}


def wait_ready(server: RunningServer, timeout_s: float = READY_TIMEOUT_S) -> float:
    """Poll /health/ until it answers 200; returns seconds taken. Raises BootError on exit or deadline."""
    started = time.monotonic()
    url = server.base_url + "/health/"
    while True:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise BootError(f"server exited with code {code} before answering {url}\n{processes.tail(server.log)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200 and _ours(server.process, response.headers.get("X-Worker-Pid", "")):
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() - started > timeout_s:
            raise BootError(f"server did not answer {url} within {timeout_s:g} s\n{processes.tail(server.log)}")
        time.sleep(0.02)


@contextmanager
def serve(scenario: Scenario, out_dir: Path, port: int | None = None) -> Iterator[RunningServer]:
    """Boot the site as the scenario says, wait until it answers, and always stop it afterwards."""
    port = port or free_port()
    log = out_dir / "server.log"
    argv = command(scenario.server, port, out_dir / "access.log")
    process = processes.start(argv, log, cwd=ROOT, env=environment(scenario))
    server = RunningServer(process, argv, f"http://{HOST}:{port}", log)
    try:
        server.boot_s = wait_ready(server)
        yield server
    finally:
        processes.stop(process)
