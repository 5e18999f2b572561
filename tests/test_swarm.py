"""The swarm across processes: a real Locust master with worker processes keeps the exact count."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from djload import swarm
from djload.scenario import ScenarioError, load_file
from djload.servers import free_port
from tests.conftest import ScenarioFactory
from tests.helpers import SLEEP, djload, run_one


def test_one_process_is_locusts_local_runner(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file())
    assert scenario.swarm.processes == 1
    assert "--processes" not in swarm.command(swarm.SwarmSpec(scenario, "http://127.0.0.1:1", tmp_path))


def test_processes_above_users_is_bad_input(scenario_file: ScenarioFactory) -> None:
    with pytest.raises(ScenarioError, match=r"swarm.processes: must be at most swarm.users \(2\), got 3"):
        load_file(scenario_file(swarm={"users": 2, "processes": 3}))


def test_asgi_two_workers_same_count_and_overlap(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    result = run_one(scenario_file(), tmp_path / "out", "--workers", "2")
    assert (result["completed_requests"], result["total_errors"], result["locust_processes"]) == (10, 0, 2)
    assert result["total_time_s"] < 2 * SLEEP
    assert result["mean_latency_ms"] >= SLEEP * 1000
    folder = tmp_path / "out" / "short"
    locust = (folder / "command-lines.txt").read_text().split("locust: ")[1].split()
    assert "--processes 2" in " ".join(locust)
    # Locust's default master address is port 5557 on every interface: another run would collide.
    assert locust[locust.index("--master-bind-host") + 1] == "127.0.0.1"
    assert locust[locust.index("--master-bind-port") + 1] != "5557"
    log = (folder / "locust.log").read_text()
    assert "2 workers connected" in log and "to 2 ready workers" in log
    assert len((folder / "requests.csv").read_text().splitlines()) == 11
    assert not list(folder.glob("requests-*.csv"))


def test_wsgi_two_workers_still_serialise(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(
        server={"mode": "wsgi", "workers": 1},
        endpoint={"path": "/sync/blocking/"},
        swarm={"users": 10, "requests_per_user": 2, "processes": 2},
    )
    result = run_one(path, tmp_path / "out")
    assert (result["completed_requests"], result["total_errors"], result["locust_processes"]) == (20, 0, 2)
    assert result["total_time_s"] >= 0.9 * 20 * SLEEP


def test_more_workers_than_users_is_bad_input(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    done = djload("run", scenario_file(swarm={"users": 2}), "--workers", "3", "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "fewer than --workers 3" in done.stderr
    assert not (tmp_path / "out").exists()


def _start(*args: str | Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "djload.cli", *map(str, args)], stdout=out, stderr=out)


def _interrupt(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


def test_external_workers_and_a_running_site(
    scenario_file: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape of `docker compose up`: a site served apart, workers apart, two scenarios in a row; the
    control token shared through the environment, as compose shares it."""
    monkeypatch.setenv("DJLOAD_CONTROL_TOKEN", "shared-by-both-sides")
    scenario_file("first")
    scenarios = scenario_file("second", swarm={"users": 4, "requests_per_user": 3}).parent
    port, control, master = free_port(), free_port(), f"127.0.0.1:{free_port()}"
    site = _start("serve", scenarios / "first.yaml", "--port", str(port), "--control-port", str(control),
                  log=tmp_path / "site.log")  # fmt: skip
    workers = [_start("worker", "--master", master, log=tmp_path / f"worker-{i}.log") for i in range(2)]
    try:
        done = djload("run", scenarios, "--workers", "2", "--external-workers", master,
                      "--target", f"asgi=http://127.0.0.1:{port}", "--control", f"asgi=http://127.0.0.1:{control}",
                      "--out", tmp_path / "out")  # fmt: skip
    finally:
        codes = [_interrupt(p) for p in [*workers, site]]
    assert done.returncode == 0, done.stderr + done.stdout
    assert codes == [130, 130, 130]
    first, second = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (first["completed_requests"], second["completed_requests"]) == (10, 12)
    assert first["target"] == f"http://127.0.0.1:{port}" and first["server_command"] is None
    assert first["total_time_s"] < 2 * SLEEP
    # As complete as a local run: the server's CPU and each run's own log lines from the site's control
    # endpoint, the generator's CPU from the two workers that sent (not from the master, which sends nothing).
    for row, requests in ((first, 10), (second, 12)):
        assert row["server_cpu_ms_per_request"] > 0 and row["generator_capacity_cpus"] == 2
        assert row["generator_busy_percent"] > 0 and row["log_views_started"] == requests
        folder = tmp_path / "out" / row["scenario"]
        assert len((folder / "access.log").read_text().splitlines()) == requests  # the warm-up comes before
    assert first["log_peak_in_view"] == 10  # ten users at once on the ASGI event loop
    assert "--master-bind-host 127.0.0.1" in (tmp_path / "out" / "second" / "command-lines.txt").read_text()
    assert all(log.read_text().count("Got quit message from master") == 2 for log in tmp_path.glob("worker-*.log"))


def test_workers_from_counts_the_addresses_of_a_name(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    master = f"127.0.0.1:{free_port()}"
    worker = _start("worker", "--master", master, log=tmp_path / "worker.log")
    try:  # 127.0.0.1 resolves to one address: one worker, as compose's DNS gives one per container
        done = djload("run", scenario_file(), "--workers-from", "127.0.0.1", "--external-workers", master,
                      "--out", tmp_path / "out")  # fmt: skip
    finally:
        _interrupt(worker)
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (row["locust_processes"], row["completed_requests"]) == (1, 10)
    alone = djload("run", scenario_file(), "--workers-from", "127.0.0.1", "--out", tmp_path / "alone")
    assert alone.returncode == 2 and "needs --external-workers" in alone.stderr


def test_a_remote_master_or_target_is_refused(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file()
    for option, value in (("--external-workers", "0.0.0.0:5557"), ("--target", "asgi=http://site-asgi:8000")):
        done = djload("run", path, option, value, "--out", tmp_path / "out")
        assert done.returncode == 2, done.stderr
        assert "not a loopback address" in done.stderr and not (tmp_path / "out").exists()
