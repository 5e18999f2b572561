"""A results folder on a file system that fills up: one clear line, exit 1, no traceback, the servers stopped,
and what could be written kept and marked. The file system is a real 64 KiB tmpfs (mounting one needs root)."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from djload import results
from tests.conftest import ScenarioFactory
from tests.helpers import djload


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, always unmounted afterwards; skipped where it cannot be mounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.endswith(".partial")]


def test_a_run_whose_disk_fills_up_says_so_in_one_line(small_fs: Path, scenario_file: ScenarioFactory) -> None:
    # 1000 requests: their records (about 100 KiB) cannot fit, nor can the server's access log.
    scenario = scenario_file(
        server={"mode": "wsgi"}, endpoint={"path": "/sync/computation/", "query": {"times": 10}},
        swarm={"users": 10, "requests_per_user": 100},
    )  # fmt: skip
    out = small_fs / "out"
    done = djload("run", scenario, "--out", out)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("djload: ")]
    assert line.startswith(f"djload: {out}: no space left on its file system (") and "marked incomplete" in line
    # Kept under its name (not .partial), marked, with no half-written file; the servers were stopped
    # (the autouse leak check).
    assert out.is_dir() and (out / results.INCOMPLETE).exists()
    assert not [p for p in small_fs.iterdir() if p.name.startswith(".")]
    assert not _leftovers(out)
    if (out / "summary.json").exists():
        json.loads((out / "summary.json").read_text())  # whole, never half


def test_a_report_that_does_not_fit_says_so_in_one_line(
    small_fs: Path, scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    done = djload("run", scenario_file(), "--out", run)
    assert done.returncode == 0, done.stderr
    folder = small_fs / "run"
    shutil.copytree(run, folder, ignore=shutil.ignore_patterns("report.*", "figures"))
    # Fill what is left, so that the report's figures cannot be written.
    fd = os.open(small_fs / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    done = subprocess.run(
        [sys.executable, "-m", "djload.cli", "report", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("djload: ")]
    assert line.startswith(f"djload: {folder}: no space left on its file system (")
    assert not _leftovers(folder)
