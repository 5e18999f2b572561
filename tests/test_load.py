"""The load held: 1000 users, one request each, against one ASGI worker, with 0 errors."""

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from djload import ROOT, records
from djload.scenario import load_file

SCENARIO = ROOT / "scenarios" / "load" / "asgi-async-1000.yaml"
LOW_SOFT_LIMIT = 256  # far below the 1000 sockets each side needs: djload must raise it itself


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_SOFT_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@pytest.mark.skipif(resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 4096, reason="hard limit on open files too low")
def test_1000_users_complete_with_no_error(tmp_path: Path) -> None:
    scenario = load_file(SCENARIO)
    assert (scenario.server.mode, scenario.swarm.users, scenario.swarm.requests_per_user) == ("asgi", 1000, 1)
    assert scenario.sleep == 2 and scenario.endpoint.path == "/async/non-blocking/"
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "djload.cli", "run", str(SCENARIO), "--out", str(out)],
        capture_output=True, text=True, timeout=120, preexec_fn=_low_fd_limit,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = json.loads((out / "summary.json").read_text())
    print(
        f"\n1000 users: total {result['total_time_s']:.3f} s, mean {result['mean_latency_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms, RPS {result['effective_rps']}"
    )
    assert (result["completed_requests"], result["total_errors"]) == (1000, 0)
    # All 1000 sleeps overlap on the one event loop (one after another they would take 2000 s). Alone,
    # this machine takes 3.3-3.7 s, well under 2.5 x sleep; the bound is wider because opening 1000
    # connections is CPU work, and the 2 cores are shared with whatever else runs.
    assert result["total_time_s"] < 5 * scenario.sleep
    rows = records.read(out / scenario.name / "requests.csv")
    assert len({r.worker_pid for r in rows}) == 1
    assert all(r.status == 200 and r.latency_ms >= 1000 * scenario.sleep for r in rows)
