"""Ctrl-C and SIGTERM at any moment: a real `djload run`, real signals, and psutil to prove that no
server or locust process survives, that the partial result is kept and marked, and exit code 130."""

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from djload import processes
from tests.conftest import Run, ScenarioFactory, new_results

EXIT_INTERRUPTED = 130


def summary(out: Path) -> list[dict[str, Any]]:
    assert out.is_dir() and not list(out.parent.glob(".*.partial")), list(out.parent.iterdir())
    return list(json.loads((out / "summary.json").read_text()))


@pytest.mark.parametrize(("sig", "ctrl_c"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_interrupt_during_the_swarm(
    sig: signal.Signals, ctrl_c: bool, scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = Run(scenario_file(sleep=3, swarm={"users": 5}), "--out", out, cwd=tmp_path)
    server_log = out.parent / ".out.partial" / "short" / "server.log"
    run.wait_for(lambda: server_log.exists() and server_log.read_text().count("starting async") == 5)
    assert run.running("locust") and run.running("gunicorn")
    code, stderr, took = run.finish(sig, ctrl_c)
    assert code == EXIT_INTERRUPTED, stderr
    assert took < 15  # not the 3 s sleep plus a request timeout
    assert not run.survivors()
    assert "Traceback" not in stderr
    assert f"interrupted by {sig.name}" in stderr
    (result,) = summary(out)
    assert result["status"] == "interrupted"
    assert result["problem"] == f"interrupted by {sig.name}"
    assert result["completed_requests"] is not None  # measured from what locust recorded before it stopped
    assert (out / "short" / "requests.csv").exists() and (out / "short" / "locust.log").exists()


def test_interrupt_during_boot(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = Run(scenario_file(), "--out", out, cwd=tmp_path)
    run.wait_for(lambda: run.running("gunicorn"))
    code, stderr, _ = run.finish(signal.SIGINT, ctrl_c=True)
    assert code == EXIT_INTERRUPTED, stderr
    assert not run.survivors()
    assert not run.running("locust")
    (result,) = summary(out)
    assert result["status"] == "interrupted"


def test_interrupt_between_scenarios(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario_file(name="a-first", sleep=0.1)
    scenario_file(name="b-second")
    folder = scenario_file(name="c-third").parent
    partial = tmp_path / "results" / ".out.partial"
    run = Run(folder, "--out", partial.parent / "out", cwd=tmp_path)
    run.wait_for(lambda: (partial / "summary.json").exists())  # written after each scenario
    code, stderr, _ = run.finish(signal.SIGTERM, ctrl_c=False)
    assert code == EXIT_INTERRUPTED, stderr
    assert not run.survivors()
    results = summary(partial.parent / "out")
    assert [(r["scenario"], r["status"]) for r in results] == [
        ("a-first", "completed"),
        ("b-second", "interrupted"),
        ("c-third", "interrupted"),
    ]
    assert results[2]["problem"] == "not started: interrupted by SIGTERM"
    assert all(r["metadata"]["versions"]["locust"] for r in results)  # every entry, even one not started


def test_interrupted_folder_of_its_own_is_marked_in_its_name(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """Without --out, the folder djload names says that the run was interrupted."""
    with new_results() as made:
        run = Run(scenario_file(sleep=3, swarm={"users": 2}), cwd=tmp_path)
        run.wait_for(lambda: run.running("locust"))
        code, stderr, _ = run.finish(signal.SIGINT, ctrl_c=True)
        assert code == EXIT_INTERRUPTED, stderr
        assert not run.survivors()
        (new,) = made()
        assert new.name.endswith("-short-interrupted"), new
        assert json.loads((new / "summary.json").read_text())[0]["status"] == "interrupted"


def test_repeated_signals_do_not_break_the_cleanup(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = Run(scenario_file(sleep=3, swarm={"users": 5}), "--out", out, cwd=tmp_path)
    run.wait_for(lambda: run.running("locust"))
    run.descendants()
    for _ in range(5):
        os.killpg(run.process.pid, signal.SIGINT)
        time.sleep(0.05)
    _, stderr = run.process.communicate(timeout=60)
    assert run.process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert not run.survivors()
    assert summary(out)[0]["status"] == "interrupted"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_serve_stops_the_site(sig: signal.Signals, scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    with new_results():
        run = Run(scenario_file(server={"mode": "wsgi", "workers": 2}), cwd=tmp_path, command="serve")
        assert run.process.stdout is not None
        assert "serving http://127.0.0.1:" in run.process.stdout.readline()  # printed once /health/ answered
        run.wait_for(lambda: run.count("gunicorn") == 3)  # the master and both workers
        code, stderr, took = run.finish(sig, ctrl_c=sig == signal.SIGINT)
    assert code == EXIT_INTERRUPTED, stderr
    assert took < 15
    assert not run.survivors()
    assert "Traceback" not in stderr


def wait_until_gone(run: Run, timeout_s: float = 10) -> list[str]:
    """What of the run's processes is still alive after timeout_s (nothing, if all are gone sooner)."""
    deadline = time.monotonic() + timeout_s
    while run.survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    return run.survivors()


def test_a_hang_up_is_an_interruption(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """A closed terminal or a lost SSH session: the same orderly stop as SIGTERM, exit code 129."""
    out = tmp_path / "out"
    run = Run(scenario_file(sleep=3, swarm={"users": 5}), "--out", out, cwd=tmp_path)
    # During the swarm, as for SIGTERM: locust now starts while the server boots, so both running is too soon.
    server_log = out.parent / ".out.partial" / "short" / "server.log"
    run.wait_for(lambda: server_log.exists() and server_log.read_text().count("starting async") == 5)
    code, stderr, took = run.finish(signal.SIGHUP, ctrl_c=False)
    assert code == 129, stderr
    assert took < 15
    assert not run.survivors()
    assert "Traceback" not in stderr
    assert "interrupted by SIGHUP" in stderr
    (result,) = summary(out)
    assert (result["status"], result["problem"]) == ("interrupted", "interrupted by SIGHUP")


def test_a_killed_run_takes_its_servers_and_locust_along(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """SIGKILL runs no cleanup in djload: the keeper kills every process group, the forked workers with them,
    and the next run with the same --out keeps the killed run's folder aside and takes the name."""
    out = tmp_path / "out"
    path = scenario_file(sleep=3, server={"mode": "wsgi", "workers": 2}, swarm={"users": 4, "processes": 2})
    run = Run(path, "--out", out, cwd=tmp_path)

    # The gunicorn master and its 2 workers; the locust master and the 2 workers it forked.
    run.wait_for(lambda: run.count("gunicorn") == 3 and run.count("locust") == 3)
    time.sleep(1)  # the requests are in the 3 s view
    os.kill(run.process.pid, signal.SIGKILL)
    run.process.communicate(timeout=30)
    assert not wait_until_gone(run, timeout_s=10)
    assert not out.exists() and (tmp_path / ".out.partial").is_dir()

    again = Run(scenario_file(sleep=0.1), "--out", out, cwd=tmp_path)
    _, stderr = again.process.communicate(timeout=120)
    assert again.process.returncode == 0, stderr
    assert f"its results are kept as {tmp_path / 'out-killed'}" in stderr
    assert summary(out)[0]["status"] == "completed"
    assert "ended without finishing it" in (tmp_path / "out-killed" / "KILLED.txt").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out-killed", "scenarios"]


def test_the_report_on_the_way_out_answers_a_further_signal() -> None:
    """After the first signal later ones are held back so that the cleanup runs whole; the report, a long
    job of that cleanup, is the exception: the next signal cuts it short (and the results are kept)."""
    saved = {sig: signal.getsignal(sig) for sig in processes.SIGNALS}
    try:
        processes.install_signal_handlers()
        with pytest.raises(processes.Interrupted, match="SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        with processes.shielded(), pytest.raises(processes.Interrupted, match="SIGHUP"), processes.cancellable():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(5)
        with processes.shielded():
            os.kill(os.getpid(), signal.SIGINT)  # during the cleanup before the report: held back
            time.sleep(0.1)
            with pytest.raises(processes.Interrupted, match="SIGINT"), processes.cancellable():
                pytest.fail("a signal that came before the report means: no report")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
