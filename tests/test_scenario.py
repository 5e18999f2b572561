from pathlib import Path

import pytest

from djload.scenario import ROOT, ScenarioError, load, load_file, site_endpoints
from tests.conftest import ScenarioFactory

TALK = ROOT / "scenarios" / "talk"


def test_talk_scenarios_load() -> None:
    scenarios = {s.name: s for s in load([TALK])}
    assert set(scenarios) == {
        "asgi-async",
        "asgi-sync",
        "wsgi-async",
        "wsgi-sync",
        "wsgi-sync-computation",
        "asgi-async-computation",
    }
    wsgi = scenarios["wsgi-sync"]
    assert (wsgi.server.mode, wsgi.server.workers, wsgi.endpoint.path) == ("wsgi", 1, "/sync/blocking/")
    assert (wsgi.sleep, wsgi.swarm.users, wsgi.swarm.requests_per_user) == (2.0, 10, 1)
    assert wsgi.expected["total_time_s"] == 20.035
    assert scenarios["wsgi-sync-computation"].endpoint.url_path == "/sync/computation/?times=10"


def test_site_endpoints_come_from_the_site() -> None:
    assert {"/async/non-blocking/", "/sync/blocking/", "/health/"} <= set(site_endpoints())


def test_defaults(scenario_file: ScenarioFactory) -> None:
    scenario = load_file(scenario_file(server={"mode": "wsgi"}, swarm={"users": 3}))
    assert scenario.server.workers == 1
    assert scenario.swarm.requests_per_user == 1
    assert scenario.swarm.effective_spawn_rate == 3.0


def test_every_problem_is_reported_with_file_and_line(scenario_file: ScenarioFactory) -> None:
    path = scenario_file(
        server={"mode": "wsgii", "wokers": 2},
        endpoint={"path": "/nope/"},
        swarm={"users": 0, "requests_per_user": "ten"},
    )
    with pytest.raises(ScenarioError) as caught:
        load([path])
    problems = caught.value.problems
    text = "\n".join(problems)
    assert all(p.startswith(f"{path}:") for p in problems), text
    assert "server.mode: unknown value 'wsgii'; did you mean 'wsgi'?" in text
    assert "server.wokers: unknown key; did you mean 'workers'?" in text
    assert "endpoint.path: unknown value '/nope/'" in text
    assert "swarm.users: must be at least 1, got 0" in text
    assert "swarm.requests_per_user: must be an integer, got 'ten'" in text
    # The line numbers point at the offending keys.
    lines = path.read_text().splitlines()
    for problem in problems:
        line = int(problem.split(":")[1])
        field = problem.split(": ")[1].rsplit(".", 1)[-1]
        assert field in lines[line - 1], (problem, lines[line - 1])


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nserver: {mode: asgi\n")
    with pytest.raises(ScenarioError) as caught:
        load([path])
    assert caught.value.problems[0].startswith(f"{path}:3:1: invalid YAML")


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load([tmp_path, tmp_path / "missing.yaml"])
    assert caught.value.problems == [
        f"{tmp_path}: folder holds no scenario files (*.yaml)",
        f"{tmp_path / 'missing.yaml'}: no such file or folder",
    ]
