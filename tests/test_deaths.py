"""A dependency that dies mid-run: PostgreSQL, a gunicorn worker. The run's first line names the death and
the most common error, and the run ends within 10 s of the kill (a generous physical bound)."""

import contextlib
import json
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from djload import cause, database
from djload.records import Record
from tests.conftest import Run, ScenarioFactory

EXIT_FAILED = 1
WITHIN_S = 10.0


def _row(out: Path) -> dict[str, Any]:
    (row,) = json.loads((out / "summary.json").read_text())
    return dict(row)


def _requests_so_far(partial: Path) -> int:
    done = 0
    for path in partial.glob("progress-*.json"):
        with contextlib.suppress(ValueError, KeyError, OSError):  # replaced or removed as it is read
            done += int(json.loads(path.read_text())["done"])
    return done


def _ended_after_kill(run: Run, kill: Any) -> tuple[int, str, float]:
    killed_at = time.monotonic()
    kill()
    _, stderr = run.process.communicate(timeout=60)
    return run.process.returncode, stderr, time.monotonic() - killed_at


def test_postgres_killed_mid_run_is_named_and_ends_the_run(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    database.find_binaries()  # PostgreSQL is part of the machine scripts/setup makes
    out = tmp_path / "out"
    scenario = scenario_file(
        server={"mode": "wsgi", "workers": 1}, endpoint={"path": "/db/sync/"}, database={"engine": "postgres"},
        swarm={"users": 4, "duration": 60, "timeout": 5},
    )  # fmt: skip
    run = Run(scenario, "--out", out, cwd=tmp_path)
    partial = tmp_path / ".out.partial" / "short"
    run.wait_for(lambda: _requests_so_far(partial) >= 20, timeout_s=90)
    postgres = [p for p in run.descendants() if p.name() == "postgres"]
    (postmaster,) = [p for p in postgres if p.ppid() not in {q.pid for q in postgres}]  # not a backend
    code, stderr, took = _ended_after_kill(run, lambda: postmaster.send_signal(signal.SIGKILL))
    assert code == EXIT_FAILED, stderr
    assert took < WITHIN_S, (took, stderr)
    row = _row(out)
    first = row["problem"].splitlines()[0]
    assert first.startswith(f"PostgreSQL (pid {postmaster.pid}) was killed by SIGKILL during the run; "), first
    assert f"{row['total_errors']} failed with HTTP 500" in first, first
    assert f"short: failed: {first}" in stderr
    assert not run.survivors()


def test_a_gunicorn_worker_killed_mid_run_is_named_and_ends_the_run(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    scenario = scenario_file(
        server={"mode": "wsgi", "workers": 2}, endpoint={"path": "/sync/blocking/"}, sleep=0.05,
        swarm={"users": 2, "duration": 60},
    )  # fmt: skip
    run = Run(scenario, "--out", out, cwd=tmp_path)
    partial = tmp_path / ".out.partial" / "short"
    run.wait_for(lambda: _requests_so_far(partial) >= 10, timeout_s=90)
    master = run.child("gunicorn")
    worker = psutil.Process(master.pid).children()[0]
    code, stderr, took = _ended_after_kill(run, lambda: worker.send_signal(signal.SIGKILL))
    assert code == EXIT_FAILED, stderr
    assert took < WITHIN_S, (took, stderr)
    first = _row(out)["problem"].splitlines()[0]
    assert first.startswith(f"gunicorn worker pid {worker.pid} was killed by SIGKILL; "), first
    assert " of None " not in first  # a run for a duration expects no count
    assert not run.survivors()


@pytest.mark.parametrize(
    ("errors", "upstream", "said"),
    [
        (["HTTPError: 500 Server Error: Internal Server Error for url: /db/sync/"] * 3, False, "HTTP 500"),
        (["CatchResponseError: HTTP 404, expected 2xx or 3xx"] * 2 + ["ReadTimeout: Read timed out."], False,
         "HTTP 404 (2 of 3)"),
        (["ReadTimeout: HTTPConnectionPool(host='127.0.0.1'): Read timed out. (read timeout=1.0)"] * 36, True,
         "the upstream did not answer: 36 read timeouts"),
        (["ReadTimeout: Read timed out."] * 4, False, "the server did not answer: 4 read timeouts"),
        (["ConnectionRefusedError: [Errno 111] Connection refused"], False, "connection refused"),
    ],
)  # fmt: skip
def test_the_most_common_error_is_named(errors: list[str], upstream: bool, said: str) -> None:
    records = [Record(start=1.0, latency_ms=1.0, status=0, size=0, error=error) for error in errors]
    assert cause.failures(records + [Record(1.0, 1.0, 200, 10)], None, upstream) == said


def test_a_5xx_is_named_with_the_servers_exception(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        "Traceback (most recent call last):\n  File x\n"
        "django.core.exceptions.SynchronousOnlyOperation: You cannot call this from an async context\n"
        * 9
        + "ValueError: once\n"
    )
    records = [Record(1.0, 1.0, 500, 0, "CatchResponseError: HTTP 500, expected 2xx or 3xx")] * 9
    assert cause.failures(records, log) == "HTTP 500, You cannot call this from an async context"
