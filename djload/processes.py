"""Child processes in their own process group, so that stopping one stops everything it forked.

SIGINT, SIGTERM and SIGHUP become an ``Interrupted`` exception in the main thread, so that every
``finally`` block runs. Starting and stopping a child are shielded: a signal that arrives meanwhile is
held back and raised right after, so no child is ever started without being tracked or left
half-stopped. Every live group is tracked, and ``stop_all`` is the last line of defence on the way out.

A way out that runs no code at all (SIGKILL, a crash of the interpreter) is covered by the keeper: a
tiny process in a session of its own that holds the read end of a pipe whose only write end is
djload's. The kernel closes that end however djload dies; the keeper then reads end-of-file and kills
every process group djload told it about. Whole groups, because gunicorn's workers and locust's forked
workers are in their leader's group. Not Linux's PR_SET_PDEATHSIG in each child: it reaches only the
direct child (its own forks do not inherit it, so gunicorn's and locust's workers would depend on
their parent noticing), and it fires when the *thread* that forked the child ends, not the process, so
a child started from a short-lived thread would be killed with it. The keeper runs only while a group
is live, so that djload used as a library leaves no process behind between runs.
"""

import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

STOP_TIMEOUT_S = 5.0
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The exit code of a run a signal ended: 130 as a shell reports Ctrl-C, also for SIGTERM (a service
# manager's stop is not a failure of the run); 129 (128 + 1) for a hang-up, so that a closed terminal or
# a lost SSH session can be told apart.
EXIT_INTERRUPTED, EXIT_HANGUP = 130, 129


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived; raised in the main thread so that every cleanup block runs."""

    @property
    def exit_code(self) -> int:
        return EXIT_HANGUP if str(self) == signal.SIGHUP.name else EXIT_INTERRUPTED


class _State:
    shield_depth = 0
    pending: str | None = None
    raised = False  # only the first signal interrupts; later ones must not break the cleanup it started


_state = _State()
_live: dict[int, subprocess.Popen[bytes]] = {}

# The keeper's program (see the module's docstring). Its input is "+PGID" when a group starts and
# "-PGID" when it is stopped; end-of-file means djload is gone. It ignores the terminal's signals: its
# one job is to outlive djload by a moment.
_KEEPER = """
import os, signal, sys
for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(sig, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Keeper:
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def ready(cls) -> None:
        """Before a child starts, so that only a moment separates its start from the keeper knowing it."""
        if cls.process is None:
            cls.process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _KEEPER],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip

    @classmethod
    def started(cls, pgid: int) -> None:
        if cls.process is not None:
            cls._tell(f"+{pgid}")

    @classmethod
    def stopped(cls, pgid: int) -> None:
        if cls.process is not None:
            cls._tell(f"-{pgid}")

    @classmethod
    def _tell(cls, line: str) -> None:
        assert cls.process is not None and cls.process.stdin is not None
        try:
            cls.process.stdin.write(line.encode() + b"\n")
            cls.process.stdin.flush()
        except BrokenPipeError:  # someone killed it: nothing left to guard with, the run goes on
            cls.close()

    @classmethod
    def close(cls) -> None:
        """No group is live: end the keeper (it reads end-of-file and exits)."""
        process, cls.process = cls.process, None
        if process is None:
            return
        with contextlib.suppress(BrokenPipeError):
            process.communicate(timeout=STOP_TIMEOUT_S)
        if process.poll() is None:
            process.kill()
            process.wait()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _state.raised:
        _state.pending = name  # changes nothing now; a job on the way out may still be cut short by it
        return
    if _state.shield_depth:
        _state.pending = name
        return
    _state.raised = True
    raise Interrupted(name)


def ignore_signals() -> None:
    """On the way out, once every child is stopped: later signals change nothing.

    Python resets the handlers it installed to the default while it shuts down, and a Ctrl-C pressed again
    in that moment would kill djload with SIGINT instead of letting it exit with its code. Ignored signals
    stay ignored through the shutdown.
    """
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def install_signal_handlers() -> None:
    _state.shield_depth, _state.pending, _state.raised = 0, None, False
    for sig in SIGNALS:
        signal.signal(sig, _on_signal)


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


@contextlib.contextmanager
def cancellable() -> Iterator[None]:
    """A long job on the way out (the report) that a signal may cut short, even inside a shielded block
    and after the signal that started the way out: the next one raises Interrupted here."""
    saved = _state.shield_depth, _state.raised
    _state.shield_depth, _state.raised = 0, False
    try:
        if _state.pending:  # arrived while the way out was being taken: the job is not wanted
            name, _state.pending = _state.pending, None
            _state.raised = True
            raise Interrupted(name)
        yield
    finally:
        _state.shield_depth, _state.raised = saved


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
    """Start argv with stdout and stderr going to log, detached from our terminal's Ctrl-C.

    The group is told to the keeper, which kills it if djload dies without stopping it.
    """
    with shielded(), log.open("ab" if append else "wb") as log_file:
        _Keeper.ready()
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
        _Keeper.started(process.pid)
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
        if _live:
            _Keeper.stopped(process.pid)
        else:
            _Keeper.close()


def interrupt(process: subprocess.Popen[bytes]) -> None:
    """Send SIGINT to the process's group and return at once; stop() later finishes the job."""
    with shielded(), contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)


def interrupt_all() -> None:
    """SIGINT to every group still running, returning at once; stop_all() later waits for them."""
    for process in list(_live.values()):
        interrupt(process)


def stop_all() -> None:
    """Stop every group still running; for the way out, whatever path led there.

    From here on a signal changes nothing: the way out is already being taken.
    """
    _state.raised = True
    for process in list(_live.values()):
        stop(process)
    _Keeper.close()


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


TAIL_BYTES = 64 << 10  # a log's end is read, never the whole log: it may have grown to any size


def _end(path: Path) -> list[str]:
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - TAIL_BYTES))
            return log.read().decode(errors="replace").splitlines()
    except OSError:
        return []


def tail(path: Path, lines: int = 15) -> str:
    return "\n".join(_end(path)[-lines:])


CAUSE_CHARS = 300
_ERROR = re.compile(r"error|exception|errno|cannot|failed|invalid|refused|denied|killed", re.IGNORECASE)
_RULE = re.compile(r"[\s|=-]*")  # a line of a summary table's frame


def cause(path: Path) -> str:
    """The one line of a log that says why its process failed: the exception that ended a traceback, else
    the last line that speaks of an error, else the last line; "" for an empty or missing log."""
    lines = [line.strip() for line in _end(path) if line.strip() and not _RULE.fullmatch(line)]
    found = next((line for line in reversed(lines) if _ERROR.search(line)), lines[-1] if lines else "")
    return found if len(found) <= CAUSE_CHARS else found[:CAUSE_CHARS] + "…"


def pinned(argv: list[str], cpus: tuple[int, ...]) -> list[str]:
    """argv run on the given CPUs only (every process it forks inherits them); as is when cpus is empty.

    taskset, not os.sched_setaffinity after the start: gunicorn forks its workers right away, and a
    command line that says where it ran can be copied and run again as it is.
    """
    if not cpus:
        return argv
    return ["taskset", "--cpu-list", ",".join(map(str, cpus)), *argv]
