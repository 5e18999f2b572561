"""Shared helpers: scenario files written on the fly with short sleeps, a leak check, and a `djload run`
subprocess watched with psutil."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from djload.results import RESULTS_DIR
from tests.helpers import SLEEP

# Debian's chromium, run as root on a machine whose only network is loopback: no sandbox, and none of
# the background connections it would otherwise try at every start.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

ScenarioFactory = Callable[..., Path]


@pytest.fixture
def scenario_file(tmp_path: Path) -> ScenarioFactory:
    """Write a scenario YAML file; keyword arguments override sections of a short ASGI run."""

    def make(name: str = "short", **overrides: Any) -> Path:
        data: dict[str, Any] = {
            "name": name,
            "server": {"mode": "asgi", "workers": 1},
            "endpoint": {"path": "/async/non-blocking/"},
            "sleep": SLEEP,
            "swarm": {"users": 10, "requests_per_user": 1},
        }
        data.update(overrides)
        path = tmp_path / "scenarios" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return make


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Every test must leave no child process behind: servers and locust are stopped by their owner."""
    yield
    children = psutil.Process().children(recursive=True)
    alive = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    described = []
    for process in alive:
        with contextlib.suppress(psutil.Error):
            described.append(" ".join(process.cmdline()))
            process.kill()
    assert not alive, f"processes left behind: {described}"


class Run:
    """A `djload run` in its own session, as a shell runs a foreground job; watched with psutil."""

    def __init__(self, *args: str | Path, cwd: Path, command: str = "run") -> None:
        runs.append(self)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "djload.cli", command, *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, start_new_session=True,
        )  # fmt: skip
        self.seen: dict[int, str] = {}

    def descendants(self) -> list[psutil.Process]:
        try:
            found = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in found:
            # Overwritten each time: just after fork, before exec, a child still shows our command line.
            with contextlib.suppress(psutil.Error):
                self.seen[child.pid] = " ".join(child.cmdline())
        return found

    def wait_for(self, condition: Callable[[], bool], timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            self.descendants()
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, "condition not reached"
            time.sleep(0.02)

    def running(self, module: str) -> bool:
        self.descendants()
        return any(f" -m {module} " in line and psutil.pid_exists(pid) for pid, line in self.seen.items())

    def count(self, module: str) -> int:
        """How many of its processes run `python -m module` (forked workers show their parent's command line)."""
        return len([p for p in self.descendants() if f" -m {module} " in self.seen.get(p.pid, "")])

    def child(self, module: str) -> psutil.Process:
        """The direct child running `python -m module`: a server or locust group's leader."""
        (found,) = [
            p for p in self.descendants() if p.ppid() == self.process.pid and f" -m {module} " in self.seen[p.pid]
        ]
        return found

    def close(self) -> None:
        """After a failed test: let djload stop its own children, then make sure."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
        for pid in self.seen:
            # Its children lead process groups of their own: kill each group, not just its leader.
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()

    def finish(self, sig: signal.Signals, ctrl_c: bool) -> tuple[int, str, float]:
        self.descendants()
        sent = time.monotonic()
        if ctrl_c:
            os.killpg(self.process.pid, sig)  # what the terminal does on Ctrl-C: the whole foreground group
        else:
            self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stderr, time.monotonic() - sent

    def survivors(self) -> list[str]:
        alive = []
        for pid, line in self.seen.items():
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(line)
            except psutil.NoSuchProcess:
                pass
        return alive


runs: list[Run] = []


@pytest.fixture(autouse=True)
def close_runs() -> Iterator[None]:
    yield
    while runs:
        runs.pop().close()


@contextlib.contextmanager
def new_results() -> Iterator[Callable[[], list[Path]]]:
    """The folders a command made under results/ (where djload puts them without --out), removed after."""
    before = set(RESULTS_DIR.iterdir()) if RESULTS_DIR.exists() else set()

    def made() -> list[Path]:
        return sorted(set(RESULTS_DIR.iterdir()) - before) if RESULTS_DIR.exists() else []

    try:
        yield made
    finally:
        for folder in made():
            shutil.rmtree(folder)
