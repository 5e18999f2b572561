"""End to end: the djload command with real servers and a real locust subprocess, short sleeps."""

import json
from pathlib import Path

import pytest

from tests.conftest import ScenarioFactory
from tests.helpers import BROKEN, SLEEP, djload, run_one


def test_asgi_async_overlaps_all_sleeps(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    result = run_one(scenario_file(), tmp_path / "out")
    assert (result["completed_requests"], result["total_errors"], result["status"]) == (10, 0, "completed")
    assert result["total_time_s"] < 2 * SLEEP
    assert result["mean_latency_ms"] >= SLEEP * 1000
    folder = tmp_path / "out" / "short"
    assert len((folder / "requests.csv").read_text().splitlines()) == 11
    assert (folder / "server.log").read_text().count("resuming async - Running in thread:") == 10
    assert "locust" in (folder / "command-lines.txt").read_text()
    assert result["metadata"]["versions"]["locust"]


def test_wsgi_one_worker_serialises(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(server={"mode": "wsgi", "workers": 1}, endpoint={"path": "/sync/blocking/"})
    result = run_one(path, tmp_path / "out")
    assert (result["completed_requests"], result["total_errors"]) == (10, 0)
    assert result["total_time_s"] >= 0.9 * 10 * SLEEP
    assert result["mean_latency_ms"] == pytest.approx(5.5 * SLEEP * 1000, rel=0.15)
    assert "talk" not in djload("run", path, "--out", tmp_path / "again").stdout


def test_prints_the_talks_numbers_beside(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(expected={"total_time_s": 2.037, "mean_latency_ms": 2024.5, "effective_rps": 5})
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    talk_line = next(line for line in done.stdout.splitlines() if " talk " in line)
    assert "2.037 s" in talk_line and "2024.5 ms" in talk_line


def test_existing_results_folder_is_never_overwritten(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("[]")
    done = djload("run", scenario_file(), "--out", out)
    assert done.returncode == 2
    assert "exists already" in done.stderr
    assert (out / "summary.json").read_text() == "[]"


def test_bad_scenario_exits_2_without_results(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    done = djload("run", scenario_file(server={"mode": "nope"}), "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "server.mode: unknown value 'nope'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_every_kind_of_broken_file_exits_2_with_one_line_each(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for kind, (text, _) in BROKEN.items():
        (folder / f"{kind}.yaml").write_text(text)
    done = djload("run", folder, "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == sorted(f"{folder / kind}.yaml:{line}" for kind, (_, line) in BROKEN.items())
    assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken"]  # no results folder, not even a partial one


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "djload: error: the following arguments are required: command (see djload --help)"),
        (("walk",), "djload: error: argument command: invalid choice: 'walk' (choose from "),
        (("run",), "djload run: error: the following arguments are required: PATH (see djload run --help)"),
        (("run", "x.yaml", "--outt", "o"), "djload: error: unrecognized arguments: --outt o (see djload --help)"),
        (("serve", "x.yaml", "--port", "http"), "djload serve: error: argument --port: invalid port 'http'"),
        (("serve", "x.yaml", "--port", "70000"), "djload serve: error: argument --port: invalid port 70000"),
        (("run", "missing.yaml"), "missing.yaml: no such file or folder"),
        (("run", "empty"), "empty: folder holds no scenario files (*.yaml)"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = djload(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_serve_takes_exactly_one_scenario(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario_file(name="one")
    folder = scenario_file(name="two").parent
    done = djload("serve", folder, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"{folder}: holds 2 scenarios (one, two); this command takes one\n"


def test_a_relative_out_folder_works(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """The server and locust run in other directories: every path they get must be absolute."""
    scenario = scenario_file(server={"mode": "wsgi"}, endpoint={"path": "/sync/blocking/"}, swarm={"users": 2})
    done = djload("run", scenario, "--out", "relative", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "relative" / "summary.json").read_text())[0]["completed_requests"] == 2
    assert (tmp_path / "relative" / "short" / "access.log").read_text().count("GET /sync/blocking/") == 2
