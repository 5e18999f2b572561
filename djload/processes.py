"""Child processes in their own process group, so that stopping one stops everything it forked."""

import contextlib
import os
import signal
import subprocess
from pathlib import Path

STOP_TIMEOUT_S = 5.0


def start(argv: list[str], log: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start argv with stdout and stderr going to log, detached from our terminal's Ctrl-C."""
    with log.open("wb") as log_file:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Quick shutdown of the whole process group: SIGINT, then SIGKILL after timeout_s."""
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


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
