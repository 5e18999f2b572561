"""The results folder: one per run, built under a temporary name, never overwriting another.

Each scenario's entry in summary.json carries the metadata needed to trust or repeat it.
"""

import contextlib
import errno
import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from djload import ROOT, commandlines

# A write refused for want of room: no space, no quota left, a file larger than the file system allows.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
LOW_SPACE_BYTES = 1 << 20
INCOMPLETE = "INCOMPLETE.txt"


class NoRoom(Exception):
    """The results folder's file system is full: djload, locust or the server could not write what it had."""


def no_room(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in NO_ROOM


def unwritten(exc: OSError) -> str:
    """What a refused write was writing, by its file's name (a temporary name gives the file's own)."""
    name = Path(str(exc.filename)).name.removeprefix(".").removesuffix(".tmp") if exc.filename else "a file"
    return f"{name} could not be written"


def out_of_space(path: Path) -> bool:
    """Whether path's file system is (nearly) full: under LOW_SPACE_BYTES free, or no free inode.

    Asked after a child process failed: locust cannot say why when its own log cannot be written either.
    """
    try:
        stat = os.statvfs(path)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < LOW_SPACE_BYTES or (stat.f_files > 0 and stat.f_favail == 0)


RESULTS_DIR = ROOT / "results"
PACKAGES = ("django", "gunicorn", "uvicorn", "uvicorn-worker", "locust", "djload")
# A .partial folder is locked (flock) by the run that writes it, for as long as that process lives: the
# kernel drops the lock however the process ends, SIGKILL included. LOCK inside it holds the writer's
# PID, written once the lock is held; removed when the folder is finished.
LOCK = ".lock"
# A .partial folder without LOCK is an older djload's, or a run's that was killed between creating it and
# writing LOCK (microseconds), or one being created this very moment: past this age it is not.
LOCKLESS_STALE_S = 60.0


class ResultsError(Exception):
    """The results folder cannot be used (it exists already, or cannot be written)."""


def _version(package: str) -> str:
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            # No index.lock: a status killed at its timeout (or by a signal) must not leave one behind in
            # the user's repository, where it would stop their next git command.
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return revision + ("-dirty" if dirty else "")


def machine_metadata() -> dict[str, Any]:
    """Facts about this machine and software that hold for every scenario of a run."""
    return {
        "python": platform.python_version(),
        "versions": {package: _version(package) for package in PACKAGES},
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)),
        "git_revision": git_revision(),
    }


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _lock(folder: Path) -> int | None:
    """An open descriptor of folder holding its exclusive lock; None if another process holds it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # not inherited: children never hold the lock
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _abandoned(partial: Path, fd: int) -> str | None:
    """Why nobody is writing this .partial folder, whose lock fd now holds; None if a run may be."""
    if os.fstat(fd).st_ino != partial.stat().st_ino:
        return None  # taken over and made anew meanwhile
    try:
        pid = (partial / LOCK).read_text().strip()
    except FileNotFoundError:
        age_s = time.time() - partial.stat().st_mtime
        return "no run holds it" if age_s > LOCKLESS_STALE_S else None
    return f"the run that wrote it (pid {pid}) ended without finishing it"


def _free_name(final: Path, suffix: str = "") -> Path:
    """final (with suffix), or with -2, -3...: rename() would silently replace an empty folder made meanwhile."""
    for n in range(1, 1000):
        candidate = final.with_name(final.name + suffix + (f"-{n}" if n > 1 else ""))
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
    raise ResultsError(f"{final}: no free name beside it")


class RunFolder:
    """A results folder written as ``.NAME.partial`` beside its final name and renamed at the end.

    The .partial folder is the run's lock on the name. A run killed outright (SIGKILL, power loss)
    leaves it behind: the next run that wants the name sees that the lock's owner is gone, keeps
    the old results as NAME-killed with a note inside, and takes the name.
    """

    def __init__(self, final: Path, *, chosen: bool = True) -> None:
        if final.is_symlink() and not final.exists():
            raise ResultsError(
                f"{final}: a symbolic link to {os.readlink(final)}, which does not exist; "
                "give a results folder that does not exist yet"
            )
        if final.exists():
            raise ResultsError(f"{final}: results folder exists already; results are never overwritten")
        # Absolute: the server and locust run in other directories and get paths inside this folder.
        final = final.absolute()
        self.final = final
        self.chosen = chosen  # named by the user (--out): keep that name whatever happens
        self.path = final.parent / f".{final.name}.partial"
        try:
            # exist_ok=False: a run started at the same moment owns its folder, never shares it.
            self.path.mkdir(parents=True)
        except FileExistsError:
            self._take_over()
        except OSError as exc:
            raise ResultsError(f"{self.path}: cannot create results folder: {exc.strerror}") from None
        lock = _lock(self.path)
        if lock is None:
            raise ResultsError(f"{self.path}: another run is writing this results folder")
        self._lock = lock
        try:
            (self.path / LOCK).write_text(f"{os.getpid()}\n")
        except OSError as exc:
            os.close(lock)
            raise ResultsError(f"{self.path}: cannot write to results folder: {exc.strerror}") from None

    def _take_over(self) -> None:
        """The .partial folder exists: refuse if its run is alive; else keep it as NAME-killed and start anew."""
        busy = ResultsError(f"{self.path}: another run is writing this results folder")
        try:
            lock = _lock(self.path)
        except OSError:
            raise busy from None  # not a folder djload can lock: not one to take over
        if lock is None:
            raise busy
        reason: str | None = None
        try:
            reason = _abandoned(self.path, lock)
            if reason is None:
                raise busy
            kept = _free_name(self.final, "-killed")
            os.rename(self.path, kept)
            (kept / LOCK).unlink(missing_ok=True)
            commandlines.relocate(kept, self.path)
            (kept / "KILLED.txt").write_text(
                f"{reason}; summary.json holds the scenarios it had finished. Found {now_iso()}.\n"
            )
            self.path.mkdir()
        except FileExistsError:
            raise busy from None
        except OSError as exc:
            if reason is None:
                raise busy from None
            raise ResultsError(f"{self.path}: {reason}, and it cannot be set aside: {exc.strerror}") from None
        finally:
            os.close(lock)
        print(f"djload: {self.path}: {reason}; its results are kept as {kept}", file=sys.stderr)

    @classmethod
    def new(cls, label: str, base: Path = RESULTS_DIR) -> "RunFolder":
        set_aside_abandoned(base)
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S")
        for n in range(1, 1000):
            final = base / (f"{stamp}-{label}" if n == 1 else f"{stamp}-{label}-{n}")
            if final.exists() or final.with_name(final.name + "-interrupted").exists():
                continue
            try:
                return cls(final, chosen=False)
            except ResultsError:
                continue  # taken meanwhile by another run
        raise ResultsError(f"{base}: no free results folder name for {stamp}-{label}")

    def finish(self, interrupted: bool = False, incomplete: str = "") -> Path:
        """Rename to the final name; an interrupted run's own-named folder says so in its name.

        incomplete: why the results could not all be written (a full disk). What was written is kept and
        marked: INCOMPLETE.txt holds the reason (or, where not even that fits, is there empty) and a
        folder djload named gets -incomplete in its name.
        """
        final = self.final
        if interrupted and not self.chosen:
            final = final.with_name(final.name + "-interrupted")
        if incomplete:
            with contextlib.suppress(OSError), (self.path / INCOMPLETE).open("w") as note:
                note.write(incomplete + "\n")
            if not self.chosen:
                final = final.with_name(final.name + "-incomplete")
        if final.exists() or final.is_symlink():
            final = _free_name(final)
        (self.path / LOCK).unlink(missing_ok=True)
        os.rename(self.path, final)
        os.close(self._lock)  # after the rename: until then no other run may take the folder over
        commandlines.relocate(final, self.path)  # the commands name where their files are now
        self.final = final
        return final


MAX_SWEPT = 100  # .partial folders looked at per run: a folder full of them costs no more than this


def set_aside_abandoned(base: Path) -> list[Path]:
    """Keep every .NAME.partial folder in base whose run is gone as NAME-killed, with a note inside.

    A run killed outright leaves its .partial folder behind; one that chose its own name (no --out) is
    never asked for again, so the next run that makes a folder here marks it. Only folders holding
    LOCK are djload's own; one whose lock is held is being written.
    """
    kept: list[Path] = []
    try:
        candidates = [p for _, p in zip(range(MAX_SWEPT), base.glob(".*.partial"), strict=False)]
    except OSError:
        return kept
    for partial in candidates:
        if partial.is_symlink() or not (partial / LOCK).is_file():
            continue
        try:
            lock = _lock(partial)
        except OSError:
            continue
        if lock is None:
            continue
        try:
            reason = _abandoned(partial, lock)
            if reason is None:
                continue
            final = partial.with_name(partial.name[1 : -len(".partial")])
            target = _free_name(final, "-killed")
            os.rename(partial, target)
            (target / LOCK).unlink(missing_ok=True)
            commandlines.relocate(target, partial)
            (target / "KILLED.txt").write_text(
                f"{reason}; summary.json holds the scenarios it had finished. Found {now_iso()}.\n"
            )
            kept.append(target)
            print(f"djload: {partial}: {reason}; its results are kept as {target}", file=sys.stderr)
        except (OSError, ResultsError):
            continue
        finally:
            os.close(lock)
    return kept


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the whole new one, never half."""
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")  # dumps fails before any file is touched


def write_text(path: Path, text: str) -> None:
    """Write a file atomically: a reader sees the old file or the whole new one, never half (a full disk
    leaves the old one, and no temporary file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())  # the rename must not reach the disk before the content does
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_command_lines(out_dir: Path, server_argv: list[str] | None, host: str, locust_argv: list[str]) -> None:
    """command-lines.txt: the exact commands of a run, to repeat it by hand (headless runs and the web UI)."""
    commandlines.write(out_dir, server_argv, host, locust_argv)
