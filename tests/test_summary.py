"""The summary row: typed parts, one flat versioned JSON object, and clear errors on a malformed file."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from djload import summary
from djload.summary import SCHEMA_VERSION, Row, SummaryError
from tests.helpers import djload

ROW = {
    "scenario": "s", "server_mode": "wsgi", "workers": 1, "threads": 1, "endpoint": "/sync/blocking/",
    "users": 2, "requests_per_user": 1, "expected_requests": 2, "sleep_s": 0.1, "status": "completed",
    "problem": "", "completed_requests": 2, "total_errors": 0, "total_time_s": 0.2, "mean_latency_ms": 150.0,
    "effective_rps": 10.0, "metadata": {"python": "3.11", "started_at": "t", "cpu_placement": {},
                                        "server_command": ["gunicorn"], "locust_command": ["locust"]},
    "started_at": "t", "server_command": ["gunicorn"], "locust_command": ["locust"],
}  # fmt: skip


def test_a_row_reads_back_as_it_was_written(tmp_path: Path) -> None:
    row = Row.from_json(ROW, "row 1")
    assert (row.name, row.measured.mean_latency_ms, row.facts.machine) == ("s", 150.0, {"python": "3.11"})
    assert row.completed and row.value("effective_rps") == 10.0
    summary.write(tmp_path / "summary.json", [row])
    (data,) = json.loads((tmp_path / "summary.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data == {**data, **ROW}  # every key as written, metadata included
    assert [r.to_json() for r in summary.read(tmp_path / "summary.json")] == [data]
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed


def test_a_repeat_row_holds_its_runs_and_their_median() -> None:
    runs = [ROW | {"run": n, "effective_rps": rps} for n, rps in ((1, 9.0), (2, 5.1), (3, 1.0))]
    row = Row.from_json(ROW | {"effective_rps": 5.0, "runs": runs, "spread": {}, "unstable": [], "repeat": 3}, "r")
    assert row.repeated is not None and [run.run for run in row.runs()] == [1, 2, 3]
    typical = row.typical_run()
    assert typical is not None and typical.run == 2
    assert Row.from_json(row.to_json(), "again").to_json() == row.to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mean_latency_ms": "fast"}, "row 1: mean_latency_ms: expected float | None, got str 'fast'"),
        ({"users": True}, "row 1: users: expected int, got bool True"),
        ({"status": "great"}, "row 1: status: expected one of completed, failed, boot_failed, interrupted"),
        ({"schema_version": SCHEMA_VERSION + 1}, f"row 1: schema_version {SCHEMA_VERSION + 1} is not one"),
        ({"runs": "none"}, "row 1: runs: expected a list of rows"),
        ({"schema_version": 0}, "row 1: schema_version 0 is not one this djload reads (1 to"),
        ({"mean_latency_ms": float("nan")}, "row 1: mean_latency_ms: nan is not a number djload writes"),
        ({"effective_rps": float("inf")}, "row 1: effective_rps: inf is not a number djload writes"),
        ({"total_time_s": -1.5}, "row 1: total_time_s: -1.5 is a negative time"),
        ({"by_request": [{"p50_ms": float("-inf")}]}, "row 1: by_request: item 1: p50_ms: -inf is not a number"),
        ({"expected": {"total_time_s": -2}}, "row 1: expected: total_time_s: -2 is a negative time"),
    ],
)
def test_a_malformed_row_is_one_clear_line(tmp_path: Path, change: dict[str, object], message: str) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps([ROW | change]))
    with pytest.raises(SummaryError) as caught:
        summary.read(path)
    assert f"{path}: {message}" in str(caught.value) and "\n" not in str(caught.value)


def test_report_of_a_malformed_summary_exits_2_without_a_traceback(tmp_path: Path) -> None:
    for text in ('{"scenario": "s"}', "[1, 2]", "[{", json.dumps([{k: v for k, v in ROW.items() if k != "scenario"}])):
        (tmp_path / "summary.json").write_text(text)
        done = djload("report", tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"djload: {tmp_path / 'summary.json'}: ") and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "report.html").exists()


def test_the_command_line_and_the_engine_do_not_import_matplotlib() -> None:
    code = "import sys, djload.cli, djload.engine, djload.console; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
