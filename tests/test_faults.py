"""Faults in the middle of a run: the server or locust dies, requests time out. Each ends promptly,
counts what failed and says what happened; nothing waits for a long timeout."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from djload import records, servers, swarm
from djload.scenario import load_file
from tests.conftest import Run, ScenarioFactory

EXIT_FAILED = 1


def finished(run: Run, timeout_s: float = 60) -> tuple[int, str, float]:
    started = time.monotonic()
    _, stderr = run.process.communicate(timeout=timeout_s)
    return run.process.returncode, stderr, time.monotonic() - started


def only_result(out: Path) -> dict[str, Any]:
    (result,) = json.loads((out / "summary.json").read_text())
    return dict(result)


def test_server_dying_mid_run_fails_the_run_promptly(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # A 60 s per-request timeout: the run must not wait for it.
    run = Run(scenario_file(sleep=3, swarm={"users": 5, "timeout": 60}), "--out", out, cwd=tmp_path)
    server_log = tmp_path / ".out.partial" / "short" / "server.log"
    run.wait_for(lambda: server_log.exists() and server_log.read_text().count("starting async") == 5)
    os.killpg(run.child("gunicorn").pid, signal.SIGKILL)
    code, stderr, took = finished(run)
    assert code == EXIT_FAILED, stderr
    assert took < 15
    assert not run.survivors()
    result = only_result(out)
    assert result["status"] == "failed"
    assert result["problem"].startswith(
        "server was killed by SIGKILL during the run; 5 of 5 requests recorded, 5 failed"
    )
    assert (result["completed_requests"], result["total_errors"]) == (5, 5)
    assert "short: failed: server was killed by SIGKILL during the run" in stderr
    assert all(r.error for r in records.read(out / "short" / "requests.csv"))


def test_locust_dying_mid_run_is_a_clear_error(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = Run(scenario_file(sleep=3, swarm={"users": 5}), "--out", out, cwd=tmp_path)
    server_log = tmp_path / ".out.partial" / "short" / "server.log"
    run.wait_for(lambda: server_log.exists() and server_log.read_text().count("starting async") == 5)
    run.child("locust").kill()
    code, stderr, took = finished(run)
    assert code == EXIT_FAILED, stderr
    assert took < 15
    assert not run.survivors()
    assert "short: failed: locust was killed by SIGKILL" in stderr
    assert "Traceback" not in stderr
    assert only_result(out)["status"] == "failed"


def test_per_request_timeout_counts_errors(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = scenario_file(sleep=2, swarm={"users": 4, "timeout": 0.3})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "djload.cli", "run", str(path), "--out", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == EXIT_FAILED, done.stderr
    result = only_result(out)
    assert (result["status"], result["completed_requests"], result["total_errors"]) == ("failed", 4, 4)
    assert result["problem"] == "4 requests failed: the server did not answer: 4 read timeouts"
    assert result["max_ms"] < 2000  # cut at the timeout, not the 2 s sleep
    assert all("timed out" in r.error.lower() for r in records.read(out / "short" / "requests.csv"))
    assert took < 30


def test_wsgi_overload_shows_timeouts_instead_of_hanging(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """One sync worker serialises 10 x 0.5 s = 5 s of sleep; a 1 s timeout lets only the first through."""
    out = tmp_path / "out"
    path = scenario_file(
        server={"mode": "wsgi", "workers": 1},
        endpoint={"path": "/sync/blocking/"},
        sleep=0.5,
        swarm={"users": 10, "timeout": 1},
    )
    done = subprocess.run(
        [sys.executable, "-m", "djload.cli", "run", str(path), "--out", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == EXIT_FAILED, done.stderr
    result = only_result(out)
    assert result["completed_requests"] == 10
    assert result["total_errors"] >= 8  # at most 1 s / 0.5 s answered in time
    errors = result["total_errors"]
    assert result["problem"] == f"{errors} requests failed: the server did not answer: {errors} read timeouts"
    assert result["total_time_s"] < 3.5  # it ends at the timeout, not after all 5 s of sleep
    errors = [r.error for r in records.read(out / "short" / "requests.csv") if r.error]
    assert all("timed out" in error.lower() for error in errors), errors
    assert not psutil.Process().children()


def test_a_hung_locust_is_stopped_at_its_deadline(
    scenario_file: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A locust that never ends (frozen here with SIGSTOP) is stopped, not waited for."""
    monkeypatch.setattr(swarm, "run_time_limit_s", lambda scenario: 1)
    monkeypatch.setattr(swarm, "LOCUST_OVERDUE_S", 1.0)
    scenario = load_file(scenario_file(sleep=0.1, swarm={"users": 2}))
    started = time.monotonic()
    with servers.serve(servers.ServerSpec(scenario, tmp_path)) as server:

        def freeze_locust() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                for child in psutil.Process().children():
                    # Only once it runs locust: frozen between fork and exec, it would hang Popen itself.
                    with contextlib.suppress(psutil.Error):
                        if child.cmdline()[1:3] == ["-m", "locust"]:
                            child.suspend()
                            return
                time.sleep(0.01)

        freezer = threading.Thread(target=freeze_locust)
        freezer.start()
        with pytest.raises(swarm.SwarmError, match="locust did not end within 2 s and was stopped"):
            swarm.run(swarm.SwarmSpec(scenario, server.base_url, tmp_path))
        freezer.join()
    assert time.monotonic() - started < 20
