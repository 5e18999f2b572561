"""The server's memory: its process tree's Pss at the peak of the run's window, in every row."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from djload import memory
from tests.conftest import ScenarioFactory
from tests.helpers import djload


def test_a_process_reads_as_its_pss_and_a_gone_one_as_nothing() -> None:
    size, is_pss = memory.process_bytes(os.getpid()) or (0, False)
    assert is_pss and 5 * memory.MIB < size < 4000 * memory.MIB  # this interpreter, pytest and djload loaded
    assert memory.process_bytes(2**22 + 1) is None  # above the kernel's pid_max: no such process


def test_the_peak_is_the_highest_of_the_windows_samples_and_the_first_after_it() -> None:
    points = ((1.0, 100, 60), (2.0, 300, 200), (3.0, 150, 100), (4.0, 400, 300))
    samples = memory.Samples([memory.Sample(t, total * memory.MIB, w * memory.MIB, 2, True) for t, total, w in points])
    assert memory.usage(samples, 0.5, 2.5) == {"server_memory_mib": 300.0, "server_memory_mib_per_worker": 100.0}
    assert memory.usage(samples, 2.2, 2.3)["server_memory_mib"] == 150.0  # between two samples: the one after
    assert memory.usage(samples, 1.5, 3.5)["server_memory_mib"] == 400.0  # what it held as the window ended
    assert memory.usage(samples, 4.5, 5.0)["server_memory_mib"] == 400.0  # nothing later: the last one
    assert memory.usage(None, 0, 1) == dict.fromkeys(memory.KEYS)


def test_multiprocessings_resource_tracker_counts_in_the_tree_not_as_a_worker() -> None:
    # What uvicorn --workers N and hypercorn start beside the workers they spawn.
    code = "from multiprocessing import resource_tracker as t; t.ensure_running(); print(flush=True); input()"
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "\n"
        deadline = time.monotonic() + 10
        while not (children := Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (tracker,) = map(int, children)
        while not memory.is_helper(tracker):  # multiprocessing does not wait for its exec
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not memory.is_helper(parent.pid)
        samples = memory.Samples()
        samples.sample(parent.pid, [parent.pid, tracker], time.time())
        (sample,) = samples.samples
        assert sample.worker_count == 1 and sample.workers == sample.total  # the parent serves alone
        assert sample.total > (memory.process_bytes(parent.pid) or (0, True))[0] * 0.9  # the tracker counted
    finally:
        parent.communicate("\n", timeout=30)


def test_gunicorn_workers_share_their_pages_and_a_memory_threshold_breaks(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    common = {"endpoint": {"path": "/sync/blocking/"}, "sleep": 0.05, "swarm": {"users": 6, "requests_per_user": 4}}
    one = scenario_file("one", server={"mode": "wsgi", "workers": 1}, **common)
    three = scenario_file(
        "three", server={"mode": "wsgi", "workers": 3}, thresholds={"server_memory_mib": "< 5"}, **common
    )
    done = djload("run", one, three, "--out", tmp_path / "out")
    assert done.returncode == 4, done.stderr + done.stdout
    assert "THRESHOLD BREACHED: three: server_memory_mib" in done.stdout
    rows = {row["scenario"]: row for row in json.loads((tmp_path / "out" / "summary.json").read_text())}
    assert all(row["status"] == "completed" for row in rows.values())
    single, triple = rows["one"]["server_memory_mib"], rows["three"]["server_memory_mib"]
    assert 5 < single < 4000 and 5 < triple < 4000
    # Three workers hold more than one, but they share the master's pages: Pss counts those once.
    assert single < triple < 3 * single
    per_worker = rows["three"]["server_memory_mib_per_worker"]
    assert 1 < per_worker < triple / 2  # three workers' share each, the master's part left out
    (check,) = rows["three"]["thresholds"]
    assert (check["metric"], check["passed"], check["value"]) == ("server_memory_mib", False, triple)
    header, *lines = done.stdout.splitlines()
    assert header.split()[-1] == "memory" and any(line.startswith("three ") and f"{triple:.0f} MiB" in line
                                                   for line in lines)  # fmt: skip
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Server memory" in report and f"{triple:.0f} MiB" in report
