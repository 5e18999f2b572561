"""Boot, readiness and stop of the upstream that the site's HTTP views call.

The upstream (djload/upstream_app.py) runs under uvicorn on a free loopback port, in its own process
group like every other child, so that stopping it, a failure or Ctrl-C leaves nothing behind.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from djload import processes
from djload.servers import HOST, BootError, answers_200, free_port, local_url, poll

READY_TIMEOUT_S = 20.0
LOG_NAME = "upstream.log"


@dataclass
class RunningUpstream:
    process: subprocess.Popen[bytes]
    argv: list[str]
    url: str  # what the site's DJLOAD_UPSTREAM_URL is set to
    log: Path


def command(port: int, host: str = HOST) -> list[str]:
    """The upstream's command line: one uvicorn process, one event loop.

    No access log (one line per request would cost more than the answer), no lifespan (the app has no
    start-up work), a listen backlog deep enough for a swarm's connections arriving at once, and
    keep-alive longer than any pause of a swarm so that the views' clients keep their connections.
    """
    return [
        sys.executable, "-m", "uvicorn", "djload.upstream_app:app",
        "--host", host, "--port", str(port),
        "--no-access-log", "--log-level", "warning",
        "--lifespan", "off",
        "--backlog", "4096",
        "--timeout-keep-alive", "120",
    ]  # fmt: skip


def start(out_dir: Path, host: str = HOST) -> RunningUpstream:
    port = free_port(host)
    argv = command(port, host)
    log = out_dir / LOG_NAME
    process = processes.start(argv, log, cwd=out_dir, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return RunningUpstream(process, argv, local_url(host, port), log)


def wait_ready(upstream: RunningUpstream, timeout_s: float = READY_TIMEOUT_S) -> float:
    """Poll until the upstream answers a request that does not wait; seconds from the call. BootError else."""
    began = time.monotonic()

    def answered() -> bool:
        if upstream.process.poll() is not None:
            ended = processes.describe_exit(upstream.process.returncode)
            raise BootError(f"the upstream {ended} before answering\n{processes.tail(upstream.log)}")
        try:
            return answers_200(upstream.url + "/?sleep=0", "the upstream")
        except BootError as exc:
            raise BootError(f"{exc}\n{processes.tail(upstream.log)}") from None

    if not poll(answered, began, timeout_s):
        raise BootError(f"the upstream did not answer {upstream.url} within {timeout_s:g} s")
    return time.monotonic() - began


@contextmanager
def running(out_dir: Path, host: str = HOST) -> Iterator[RunningUpstream]:
    """An upstream for the duration of the block; always stopped afterwards."""
    upstream = start(out_dir, host)
    try:
        wait_ready(upstream)
        yield upstream
    finally:
        processes.stop(upstream.process)
