"""What died while a swarm ran, besides the server itself: the stack's PostgreSQL or upstream, a server's worker.

A run whose database died goes on answering HTTP 500 until its last request, and says only "2879
requests failed"; a gunicorn worker killed by the kernel's OOM killer is respawned, and the run says "1
requests failed". The watch names the death ("PostgreSQL (pid N) was killed by SIGKILL during the run",
"gunicorn worker pid N was killed by SIGKILL") and swarm.run ends the swarm soon after it, as it does
when the server dies: what is measured after a death is not the scenario's.

A worker's death is read from gunicorn's own log line ("Worker (pid:N) was sent SIGKILL!", "Worker
(pid:N) exited with code 1."), once the worker is gone from the server's children: a worker gunicorn
stops itself (SIGTERM, a graceful restart) is no death.
"""

import re
import subprocess
import time
from pathlib import Path

import psutil

from djload import processes

CHILDREN_EVERY_S = 0.5  # a look at the server's children costs a read of /proc: twice a second is enough
_WORKER_END = re.compile(r"Worker \(pid:(\d+)\) (?:was sent (SIG\w+)|exited with code (\d+))")


class Watch:
    """The run's dependencies (a name → its process) and its server's workers, looked at while it runs."""

    def __init__(self, dependencies: dict[str, subprocess.Popen[bytes]], server: subprocess.Popen[bytes] | None = None,
                 server_log: Path | None = None) -> None:  # fmt: skip
        self.dependencies = dependencies
        # As root a booted PostgreSQL runs under runuser: its own pid is runuser's child's.
        self.pids = {name: _served_pid(process) for name, process in dependencies.items()}
        self.server, self.server_log = server, server_log
        self.workers: set[int] | None = None  # the server's children seen so far
        self.gone: set[int] = set()  # of them, the ones no longer there
        self.next_at = 0.0
        self.death = ""

    def check(self) -> str:
        """The first death seen so far, as the run's first line says it; "" while everything lives."""
        if not self.death:
            self.death = self._dependency_death() or self._worker_death()
        return self.death

    def _dependency_death(self) -> str:
        for name, process in self.dependencies.items():
            if (returncode := process.poll()) is not None:
                return f"{name} (pid {self.pids[name]}) {_ended(process, returncode)} during the run"
        return ""

    def _worker_death(self) -> str:
        now = time.monotonic()
        if self.server is None or now < self.next_at or self.server.poll() is not None:
            return ""
        self.next_at = now + CHILDREN_EVERY_S
        try:
            children = {child.pid for child in psutil.Process(self.server.pid).children()}
        except psutil.Error:
            return ""
        if self.workers is None:
            self.workers = children
            return ""
        self.gone |= self.workers - children
        self.workers |= children
        return worker_death(self.server_log, self.gone) if self.gone else ""


def _served_pid(process: subprocess.Popen[bytes]) -> int:
    """The pid of the program process runs: itself, or under runuser its only child."""
    if not isinstance(process.args, list) or not process.args or process.args[0] != "runuser":
        return process.pid
    try:
        children = psutil.Process(process.pid).children()
    except psutil.Error:
        return process.pid
    return children[0].pid if len(children) == 1 else process.pid


def _ended(process: subprocess.Popen[bytes], returncode: int) -> str:
    """How process ended; runuser passes a signal that killed its child on as 128 + the signal's number."""
    if isinstance(process.args, list) and process.args[:1] == ["runuser"] and 128 < returncode < 128 + 65:
        return processes.describe_exit(128 - returncode)
    return processes.describe_exit(returncode)


def worker_death(log: Path | None, pids: set[int] | None = None) -> str:
    """The first worker death gunicorn's log tells of (among pids, when given); "" when there is none."""
    if log is None or not log.is_file():
        return ""
    for line in processes.tail(log, lines=10_000).splitlines():
        if not (found := _WORKER_END.search(line)):
            continue
        pid, signal_name, code = int(found.group(1)), found.group(2), found.group(3)
        if pids is not None and pid not in pids:
            continue
        if signal_name and signal_name != "SIGTERM":
            return f"gunicorn worker pid {pid} was killed by {signal_name}"
        if code and code != "0":
            return f"gunicorn worker pid {pid} exited with code {code}"
    return ""
