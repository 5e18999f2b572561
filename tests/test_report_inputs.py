"""The report on what it may be given: a summary.json of the wrong shape, and runs of thousands of scenarios."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from djload import report
from tests.helpers import djload


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("one")
    scenario = folder / "one.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "sleep": 0.05,
                "swarm": {"users": 4},
                "server": {"mode": "asgi"},
                "endpoint": {"path": "/async/non-blocking/"},
            }
        )
    )
    done = djload("run", scenario, "--out", folder / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    return folder / "out"


def copies(run: Path, count: int, out: Path) -> Path:
    """A results folder of count scenarios, each a copy of run's one: what a big matrix leaves."""
    (row,) = json.loads((run / "summary.json").read_text())
    out.mkdir()
    rows = []
    for i in range(count):
        name = f"{row['scenario']}-{i:05d}"
        shutil.copytree(run / row["scenario"], out / name)
        rows.append({**row, "scenario": name, "effective_rps": float(i)})
    (out / "summary.json").write_text(json.dumps(rows))
    return out


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"completed_requests": "10"}, "completed_requests"),
        ({"status": 5}, "status"),
        ({"status": "done"}, "status"),
        ({"total_time_s": [1]}, "total_time_s"),
    ],
)
def test_a_field_of_the_wrong_type_is_one_line_and_exit_2(
    change: dict[str, Any], problem: str, one_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(one_run, folder)
    (row,) = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps([{**row, **change}]))
    before = sorted(p.name for p in folder.rglob("*"))
    done = djload("report", folder)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"djload: {folder / 'summary.json'}: ") and problem in line, line
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert sorted(p.name for p in folder.rglob("*")) == before  # nothing written, nothing half-written


@pytest.mark.parametrize("text", ["[{}]", "[1]", "{}", '"rows"', "[", ""])
def test_a_summary_of_the_wrong_shape_is_one_line_and_exit_2(text: str, tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(text)
    done = djload("report", tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "summary.json" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_big_run_gets_summaries_not_a_picture_per_scenario(one_run: Path, tmp_path: Path) -> None:
    count = report.MAX_TIMELINES * 5
    folder = copies(one_run, count, tmp_path / "big")
    done = djload("report", folder)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (folder / "figures").iterdir()] == []
    text = (folder / "report.md").read_text()
    assert f"{count} scenarios: a timeline per scenario is drawn for up to {report.MAX_TIMELINES}" in text
    assert f"effective RPS from 0.00 (one-00000) to {count - 1:.2f} (one-{count - 1:05d})" in text
    assert all(f"| one-{i:05d} |" in text for i in range(count))  # the tables have every scenario
    assert f"The first {report.MAX_COMMAND_ROWS} of {count} scenarios; summary.json has every command line" in text
    # Each scenario costs its table rows, about 1 kB, no longer the 50 kB of a picture.
    assert (folder / "report.html").stat().st_size < count * 2_000


def test_a_small_run_keeps_its_pictures(one_run: Path, tmp_path: Path) -> None:
    folder = copies(one_run, 3, tmp_path / "small")
    assert djload("report", folder).returncode == 0
    assert sorted(p.name for p in (folder / "figures").iterdir()) == [
        "rps.png", "timeline-one-00000.png", "timeline-one-00001.png", "timeline-one-00002.png"
    ]  # fmt: skip


def test_ctrl_c_stops_a_long_report_at_once(one_run: Path, tmp_path: Path) -> None:
    folder = copies(one_run, 5000, tmp_path / "huge")
    process = subprocess.Popen(
        [sys.executable, "-m", "djload.cli", "report", str(folder)], stderr=subprocess.PIPE, text=True
    )
    time.sleep(1.0)  # importing, reading 5000 rows: the whole report takes several times longer
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert time.monotonic() - sent < 10
    assert "Traceback" not in stderr
    assert not list(folder.glob("*.tmp")) and not (folder / "report.html").exists()
