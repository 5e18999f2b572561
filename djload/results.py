"""The results folder: one per run, built under a temporary name, never overwriting another.

Each scenario's entry in summary.json carries the metadata needed to trust or repeat it.
"""

import json
import os
import platform
import subprocess
import time
from datetime import datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from djload.scenario import ROOT

RESULTS_DIR = ROOT / "results"
PACKAGES = ("django", "gunicorn", "uvicorn", "uvicorn-worker", "locust", "djload")


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
            ["git", "status", "--porcelain", "--untracked-files=no"],
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


class RunFolder:
    """A results folder written as ``.NAME.partial`` beside its final name and renamed at the end."""

    def __init__(self, final: Path, *, chosen: bool = True) -> None:
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
            raise ResultsError(f"{self.path}: another run is writing this results folder") from None
        except OSError as exc:
            raise ResultsError(f"{self.path}: cannot create results folder: {exc.strerror}") from None

    @classmethod
    def new(cls, label: str, base: Path = RESULTS_DIR) -> "RunFolder":
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

    def scenario_dir(self, name: str) -> Path:
        path = self.path / name
        path.mkdir()
        return path

    def finish(self, interrupted: bool = False) -> Path:
        """Rename to the final name; an interrupted run's own-named folder says so in its name."""
        final = self.final
        if interrupted and not self.chosen:
            final = final.with_name(final.name + "-interrupted")
        # rename() would silently replace an empty folder created meanwhile: never take its place.
        for n in range(2, 1000):
            if not final.exists():
                break
            final = self.final.with_name(f"{self.final.name}-{n}")
        os.rename(self.path, final)
        self.final = final
        return final


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the whole new one, never half."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"  # fails here, before any file is touched
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())  # the rename must not reach the disk before the content does
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
