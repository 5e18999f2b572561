"""Child processes in their own process group, so that stopping one stops everything it forked.

SIGINT and SIGTERM become an ``Interrupted`` exception in the main thread, so that every ``finally``
block runs. Starting and stopping a child are shielded: a signal that arrives meanwhile is held back
and raised right after, so no child is ever started without being tracked or left half-stopped.
Every live group is tracked, and ``stop_all`` is the last line of defence on the way out.
"""

import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

STOP_TIMEOUT_S = 5.0


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; raised in the main thread so that every cleanup block runs."""


class _State:
    shield_depth = 0
    pending: str | None = None
    raised = False  # only the first signal interrupts; later ones must not break the cleanup it started


_state = _State()
_live: dict[int, subprocess.Popen[bytes]] = {}


def _on_signal(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _state.raised:
        return
    if _state.shield_depth:
        _state.pending = name
        return
    _state.raised = True
    raise Interrupted(name)


def install_signal_handlers() -> None:
    _state.shield_depth, _state.pending, _state.raised = 0, None, False
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold back an interruption until the block is done; then raise it."""
    _state.shield_depth += 1
    try:
        yield
    finally:
        _state.shield_depth -= 1
        if not _state.shield_depth and _state.pending and not _state.raised:
            name, _state.pending = _state.pending, None
            _state.raised = True
            raise Interrupted(name)


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard limit; children inherit it.

    A swarm of N users holds N client sockets in locust and N server sockets in the site, and the
    common soft limit of 1024 is below the 1000-user scenario's needs on either side.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start(
    argv: list[str], log: Path, cwd: Path, env: dict[str, str], *, append: bool = False
) -> subprocess.Popen[bytes]:
    """Start argv with stdout and stderr going to log, detached from our terminal's Ctrl-C."""
    with shielded(), log.open("ab" if append else "wb") as log_file:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _live[process.pid] = process
        return process


def stop(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Quick shutdown of the whole process group: SIGINT, then SIGKILL after timeout_s."""
    with shielded():
        pgid = process.pid  # start_new_session makes the child its group's leader
        for sig in (signal.SIGINT, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=timeout_s)
                break
            except subprocess.TimeoutExpired:
                continue
        # Forked workers may outlive their parent for a moment; the group must be empty on return.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        process.wait()
        _live.pop(process.pid, None)


def interrupt(process: subprocess.Popen[bytes]) -> None:
    """Send SIGINT to the process's group and return at once; stop() later finishes the job."""
    with shielded(), contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)


def stop_all() -> None:
    """Stop every group still running; for the way out, whatever path led there.

    From here on a signal changes nothing: the way out is already being taken.
    """
    _state.raised = True
    for process in list(_live.values()):
        stop(process)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def pinned(argv: list[str], cpus: tuple[int, ...]) -> list[str]:
    """argv run on the given CPUs only (every process it forks inherits them); as is when cpus is empty.

    taskset, not os.sched_setaffinity after the start: gunicorn forks its workers right away, and a
    command line that says where it ran can be copied and run again as it is.
    """
    if not cpus:
        return argv
    return ["taskset", "--cpu-list", ",".join(map(str, cpus)), *argv]
