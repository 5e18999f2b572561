"""Measurements where the processes run: a site's control endpoint (its server's CPU and log lines per run)
and the locust workers' reports of their own CPU."""

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from djload import remote, serverlog, servers
from djload.scenario import load_file
from tests.conftest import ScenarioFactory


def _send(url: str, count: int) -> tuple[float, float]:
    """count requests at once; the window from the first send to the last answer, epoch seconds."""
    start = time.time()
    threads = [threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=30).read()) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return start, time.time()


def test_control_endpoint_hands_each_run_its_cpu_and_log_lines(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file(endpoint={"path": "/sync/blocking/"}))
    site = tmp_path / "site"
    site.mkdir()
    with (
        servers.serve(servers.ServerSpec(scenario, site)) as server,
        remote.control(server, site, servers.HOST, servers.free_port()) as url,
    ):
        control = remote.Control(url)
        with pytest.raises(remote.ControlError, match="409"):
            control.end(0, 1, 1, tmp_path)  # nothing begun
        runs = []
        for count in (4, 6):
            out = tmp_path / f"run-{count}"
            out.mkdir()
            control.begin()
            start, end = _send(server.base_url + "/sync/blocking/", count)
            runs.append((count, out, control.end(start, end, count, out)))
    for count, out, usage in runs:
        # The server worked, but far less than the window: its views sleep.
        assert 0 < usage["server_cpu_percent"] < 100 and usage["server_cpu_ms_per_request"] > 0
        # The site's memory is sampled there too, with its CPU: a --control run's rows have it.
        assert (
            5 < usage["server_memory_mib"] < 4000
            and 0 < usage["server_memory_mib_per_worker"] <= usage["server_memory_mib"]
        )
        stats = serverlog.read(out / "server.log")  # only this run's lines: its own views, all at once under ASGI
        assert (stats.views_started, stats.views_finished, stats.peak_in_view) == (count, count, count)
        assert len((out / "access.log").read_text().splitlines()) == count


def test_generator_usage_from_the_workers_reports(tmp_path: Path) -> None:
    assert remote.generator_usage(tmp_path, 0, 1, 2) == {}  # no reports: nothing to say
    reports = [{"wall_s": 2.0, "cpu_s": 1.0, "busy_s": 1.2}, {"wall_s": 2.0, "cpu_s": 1.9, "busy_s": 1.95}]
    (tmp_path / "generator.json").write_text(json.dumps(reports))
    usage = remote.generator_usage(tmp_path, 10.0, 12.0, cpus=8)
    assert usage == {"generator_cpu_percent": 72.5, "generator_busy_percent": 78.8,
                     "generator_capacity_cpus": 2, "generator_bound": False}  # fmt: skip
    assert remote.generator_usage(tmp_path, 10.0, 12.0, cpus=1)["generator_bound"]  # two workers on one CPU
