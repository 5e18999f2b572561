"""Results are never lost or overwritten: a temporary name, then a rename; whole files or none."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from djload.results import ResultsError, RunFolder, write_json
from tests.conftest import Run, ScenarioFactory
from tests.helpers import djload


def test_a_failed_write_keeps_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_json(path, [{"status": "completed"}])
    with pytest.raises(ValueError):
        write_json(path, [{"mean_latency_ms": math.nan}])
    assert json.loads(path.read_text()) == [{"status": "completed"}]
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_a_folder_is_built_under_a_temporary_name(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "out")
    assert folder.path == tmp_path / ".out.partial" and folder.path.is_dir()
    assert not (tmp_path / "out").exists()
    write_json(folder.path / "summary.json", [])
    assert folder.finish() == tmp_path / "out"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_existing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(ResultsError, match="exists already"):
        RunFolder(tmp_path / "out")
    RunFolder(tmp_path / "other")
    with pytest.raises(ResultsError, match="another run is writing"):
        RunFolder(tmp_path / "other")


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    folders = [RunFolder.new("talk", base=tmp_path) for _ in range(3)]
    finals = [f.finish() for f in folders]
    assert len(set(finals)) == 3
    assert [f.name.split("-talk")[1] for f in sorted(finals)] == ["", "-2", "-3"]


def test_finishing_never_takes_the_place_of_a_folder_made_meanwhile(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "out")
    (tmp_path / "out").mkdir()  # empty: a plain rename would silently replace it
    (tmp_path / "out" / "mine").write_text("someone else's")
    assert folder.finish() == tmp_path / "out-2"
    assert (tmp_path / "out" / "mine").read_text() == "someone else's"


def test_an_interrupted_run_of_its_own_naming_says_so(tmp_path: Path) -> None:
    assert RunFolder.new("talk", base=tmp_path).finish(interrupted=True).name.endswith("-talk-interrupted")
    assert RunFolder(tmp_path / "chosen").finish(interrupted=True).name == "chosen"  # --out is kept as given


def test_a_killed_run_leaves_whole_summaries(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """SIGKILL cannot be caught: what is on disk is whatever was written whole before it."""
    scenario_file(name="a-first", sleep=0.1)
    folder = scenario_file(name="b-second", sleep=3).parent
    partial = tmp_path / ".out.partial"
    run = Run(folder, "--out", tmp_path / "out", cwd=tmp_path)
    run.wait_for(lambda: (partial / "summary.json").exists() and run.running("locust"))
    os.kill(run.process.pid, signal.SIGKILL)
    run.process.communicate(timeout=30)
    run.close()  # its server and locust were orphaned with it: stop them
    assert not (tmp_path / "out").exists()
    (first,) = json.loads((partial / "summary.json").read_text())
    assert (first["scenario"], first["status"]) == ("a-first", "completed")
    assert not list(partial.glob("*.tmp")) and not list(partial.glob(".*.tmp"))


def test_a_dangling_symlink_is_refused_before_anything_runs(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """Followed, the run would complete and only then fail to rename its results into place."""
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "nowhere")
    started = time.monotonic()
    done = djload("run", scenario_file(), "--out", link)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"djload: {link}: a symbolic link to {tmp_path / 'nowhere'}, which does not exist; "
        "give a results folder that does not exist yet"
    ]
    assert time.monotonic() - started < 30  # refused before any server boots
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scenarios"]


def test_a_folder_whose_run_is_gone_is_kept_aside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run killed outright leaves its .partial folder; its lock went with its process."""
    code = f"from pathlib import Path; from djload.results import RunFolder; RunFolder(Path({str(tmp_path / 'out')!r}))"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    partial = tmp_path / ".out.partial"
    write_json(partial / "summary.json", [{"status": "completed"}])
    pid = (partial / ".lock").read_text().strip()
    folder = RunFolder(tmp_path / "out")
    kept = tmp_path / "out-killed"
    assert capsys.readouterr().err == f"djload: {partial}: the run that wrote it (pid {pid}) ended without finishing " \
        f"it; its results are kept as {kept}\n"  # fmt: skip
    assert json.loads((kept / "summary.json").read_text()) == [{"status": "completed"}]
    assert (kept / "KILLED.txt").read_text().startswith(f"the run that wrote it (pid {pid}) ended without finishing")
    assert sorted(p.name for p in kept.iterdir()) == ["KILLED.txt", "summary.json"]
    assert folder.finish() == tmp_path / "out"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []  # the lock goes with the finished folder


def test_a_folder_without_a_lock_is_taken_over_only_when_old(tmp_path: Path) -> None:
    """An older djload's .partial folder, or one a run is creating this very moment."""
    partial = tmp_path / ".out.partial"
    partial.mkdir()
    with pytest.raises(ResultsError, match="another run is writing"):
        RunFolder(tmp_path / "out")
    old = time.time() - 3600
    os.utime(partial, (old, old))
    RunFolder(tmp_path / "out")
    assert "no run holds it" in (tmp_path / "out-killed" / "KILLED.txt").read_text()
