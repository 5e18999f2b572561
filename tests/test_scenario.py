from pathlib import Path

import pytest

from djload import ROOT
from djload.scenario import ScenarioError, load, load_file
from tests.conftest import ScenarioFactory
from tests.helpers import BROKEN

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
    assert "swarm.users: must be from 1 to 100000, got 0" in text
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


MATRIX = ROOT / "scenarios" / "matrix" / "server-modes.yaml"
SWEEP = ROOT / "scenarios" / "sweep" / "cpu-bound.yaml"


def test_server_modes_matrix_expands_to_every_mode_endpoint_and_worker_count() -> None:
    scenarios = load([MATRIX])
    assert len(scenarios) == 5 * 2 * 3
    assert len({s.name for s in scenarios}) == len(scenarios)
    assert {s.server.mode for s in scenarios} == {"wsgi", "wsgi-gthread", "asgi", "asgi-native", "uvicorn"}
    assert {s.endpoint.path for s in scenarios} == {"/async/non-blocking/", "/sync/blocking/", "/async/blocking/"}
    assert {s.server.workers for s in scenarios} == {1, 2}
    by_name = {s.name: s for s in scenarios}
    gthread = by_name["server-modes-wsgi-gthread-workers2-sync-blocking"]
    assert (gthread.server.threads, gthread.swarm.users, gthread.group) == (4, 10, "server-modes")
    assert dict(gthread.matrix)["endpoint.path"] == "sync-blocking"


def test_sweep_covers_times_from_ten_to_a_million_for_four_variants() -> None:
    scenarios = load([SWEEP])
    times = sorted({int(dict(s.endpoint.query)["times"]) for s in scenarios})
    assert times == [10**k for k in range(1, 7)]
    variants = {(s.server.mode, s.endpoint.path) for s in scenarios}
    assert variants == {
        ("wsgi", "/sync/computation/"),
        ("wsgi-gthread", "/sync/computation/"),
        ("asgi", "/sync/computation/"),
        ("asgi", "/async/computation/"),
    }
    assert len(scenarios) == 4 * 6
    # include: fewer requests where each one is slow.
    requests = {int(dict(s.endpoint.query)["times"]): s.swarm.total_requests for s in scenarios}
    assert requests[10] == 2000 and requests[1000000] == 100


def test_matrix_values_may_be_mappings_and_names_say_the_values(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "swarm: {users: 2}\n"
        "endpoint: {path: /sync/computation/}\n"
        "matrix:\n"
        "  server:\n"
        "    - {mode: wsgi}\n"
        "    - {mode: wsgi-gthread, threads: 8}\n"
        "  endpoint.query.times: [10, 1000]\n"
        "  sleep: [0.25]\n"
        "  include:\n"
        "    - {server.mode: wsgi-gthread, endpoint.query.times: 1000, swarm.users: 5}\n"
    )
    scenarios = {s.name: s for s in load([path])}
    assert set(scenarios) == {
        "m-wsgi-times10-sleep0.25",
        "m-wsgi-times1000-sleep0.25",
        "m-wsgi-gthread-threads8-times10-sleep0.25",
        "m-wsgi-gthread-threads8-times1000-sleep0.25",
    }
    gthread = scenarios["m-wsgi-gthread-threads8-times1000-sleep0.25"]
    assert (gthread.server.threads, gthread.endpoint.url_path, gthread.sleep) == (
        8,
        "/sync/computation/?times=1000",
        0.25,
    )


def test_matrix_problems_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "swarm: {users: 2}\n"  # 1
        "endpoint: {path: /sync/blocking/}\n"  # 2
        "matrix:\n"  # 3
        "  server.mode:\n"  # 4
        "    - wsgi\n"  # 5
        "    - wsgii\n"  # 6
        "  server.wokers: [1]\n"  # 7
        "  swarm.users: 3\n"  # 8
        "  exclude:\n"  # 9
        "    - {server.mode: asgi}\n"  # 10
        "  include:\n"  # 11
        "    - {swarm.users: 4}\n"  # 12
    )
    with pytest.raises(ScenarioError) as caught:
        load([path])
    problems = caught.value.problems
    assert f"{path}:8: matrix.swarm.users: must be a non-empty list of values, got 3" in problems
    no_match = "names no matrix field to match; one of server.mode, server.wokers"
    assert f"{path}:12: matrix.include: {{'swarm.users': 4}} {no_match}" in problems
    path.write_text(path.read_text().replace("swarm.users: 3", "swarm.users: [3]"))
    with pytest.raises(ScenarioError) as caught:
        load([path])
    problems = caught.value.problems
    text = "\n".join(problems)
    assert f"{path}:6: server.mode: unknown value 'wsgii'; did you mean 'wsgi'?" in problems, text
    assert f"{path}:7: server.wokers: unknown key; did you mean 'workers'?" in problems, text
    assert f"{path}:10: matrix.exclude: {{'server.mode': 'asgi'}} matches no combination of the matrix" in problems
    assert len(problems) == len(set(problems)), "each problem once, not once per combination"


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_each_kind_of_broken_file_gets_one_line(kind: str, tmp_path: Path) -> None:
    text, expected = BROKEN[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load([path])
    assert caught.value.problems == [f"{path}:{expected}"]


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ScenarioError) as caught:
        load([path])
    assert caught.value.problems == [f"{path}: not UTF-8 text (byte 7)"]


def test_problems_of_several_files_are_all_listed(tmp_path: Path) -> None:
    for kind in ("unknown-mode", "invalid-yaml", "duplicate-key"):
        (tmp_path / f"{kind}.yaml").write_text(BROKEN[kind][0])
    with pytest.raises(ScenarioError) as caught:
        load([tmp_path])
    assert [p.split(":")[0] for p in caught.value.problems] == [
        str(tmp_path / f"{kind}.yaml") for kind in ("duplicate-key", "invalid-yaml", "unknown-mode")
    ]
