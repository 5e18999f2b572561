"""Hostile input: every case is refused before anything starts, with exit code 2, one line naming the
cause, nothing written, in seconds."""

import os
import time
from pathlib import Path

import pytest
import yaml

from djload import servers
from djload.scenario import HUGE, HUGE_FLAG, load
from tests.helpers import djload

SCENARIO = {
    "server": {"mode": "wsgi"},
    "endpoint": {"path": "/sync/blocking/"},
    "sleep": 0.1,
    "swarm": {"users": 2},
}


def _write(path: Path, **fields: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({**SCENARIO, **fields}, sort_keys=False))
    return path


def _refused(tmp_path: Path, *args: str | Path) -> str:
    """Run djload with a fresh --out; assert exit 2, within seconds, one line, no results; the line."""
    out = tmp_path / "out"
    before = set(tmp_path.rglob("*"))
    started = time.monotonic()
    done = djload("run", *args, "--out", out)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr + done.stdout
    assert elapsed < 30, elapsed
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert set(tmp_path.rglob("*")) == before  # no results folder, partial or final, nothing beside
    return lines[0]


@pytest.mark.parametrize("file_name", ["...yaml", "..yaml"])
def test_a_name_taken_from_the_file_passes_the_name_rule(tmp_path: Path, file_name: str) -> None:
    folder = tmp_path / "scenarios"
    _write(folder / file_name)
    line = _refused(tmp_path, folder)
    assert f"{file_name}:1: name: missing, and the file's name cannot stand in for it" in line, line


@pytest.mark.parametrize("name", ["summary.json", "report.html", "report.md", "figures", "Summary.JSON"])
def test_the_results_folders_own_names_are_refused(tmp_path: Path, name: str) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", name=name))
    assert f"name: '{name}' is the name of the results folder's own" in line, line


def test_a_name_too_long_for_a_folder(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", name="a" * 300))
    assert line.endswith("name: must be at most 120 characters, got 300"), line


def test_a_huge_matrix_is_refused_without_being_expanded(tmp_path: Path) -> None:
    values = list(range(400))
    path = _write(tmp_path / "m.yaml", matrix={"sleep": values, "swarm.users": values, "swarm.timeout": values})
    line = _refused(tmp_path, path)
    assert "matrix: 64,000,000 combinations; more than 1,000 needs --i-know-its-huge" in line, line
    line = _refused(tmp_path, path, HUGE_FLAG)
    assert "more than 100,000 is refused even with --i-know-its-huge" in line, line


def test_a_big_matrix_needs_the_flag(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.yaml", matrix={"sleep": [0.1, 0.2], "swarm.users": list(range(1, 1001))})
    line = _refused(tmp_path, path)
    assert "2,000 combinations; more than 1,000 needs --i-know-its-huge" in line, line
    assert len(load([path], HUGE)) == 2000


def test_many_runs_by_repeat_need_the_flag(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml"), "--repeat", "100000000000")
    assert "100,000,000,000 runs; more than 1,000 needs --i-know-its-huge" in line, line


@pytest.mark.parametrize(
    ("swarm", "sleep", "expected"),
    [
        ({"users": 100_000}, 0.1, "swarm: 100,000 users, each a connection on both sides; more than 10,000 needs"),
        ({"users": 10_000, "requests_per_user": 1000}, 0.0, "swarm: 10,000,000 requests (users × requests_per_user)"),
        ({"users": 1, "requests_per_user": 1000}, 3600, "swarm: takes at least 3,600,001 s (its sleeps or duration)"),
        (
            {"users": 1, "requests_per_user": 100_000, "timeout": 3600},
            0,
            "swarm: may take 360,000,001 s (each request up to the timeout)",
        ),
    ],
)
def test_a_scenarios_total_work_is_bounded(
    tmp_path: Path, swarm: dict[str, float], sleep: float, expected: str
) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", swarm=swarm, sleep=sleep))
    assert expected in line, line


def test_the_flag_lets_the_deliberately_huge_through(tmp_path: Path) -> None:
    (scenario,) = load([_write(tmp_path / "s.yaml", swarm={"users": 20_000})], HUGE)
    assert scenario.swarm.users == 20_000


def test_a_file_too_big_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (2 << 20) + "\n")
    assert _refused(tmp_path, path) == f"{path}: larger than 1 MiB; a scenario file is a few hundred bytes"


def test_query_values_are_encoded(tmp_path: Path) -> None:
    query = {"times": 10, "x": "&times=300000000#"}
    (scenario,) = load([_write(tmp_path / "s.yaml", endpoint={"path": "/sync/computation/", "query": query})])
    assert scenario.endpoint.url_path == "/sync/computation/?times=10&x=%26times%3D300000000%23"


@pytest.mark.parametrize("key", ["--users", "-h"])
def test_query_keys_locust_would_read_as_options_are_refused(tmp_path: Path, key: str) -> None:
    path = _write(tmp_path / "s.yaml", endpoint={"path": "/sync/computation/", "query": {key: 1}})
    assert _refused(tmp_path, path).endswith(
        f"endpoint.query.{key}: a query key must be a name that does not start with '-'"
    )


def test_an_absurd_spawn_rate_names_the_field(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", swarm={"users": 10, "spawn_rate": 1e-300}))
    assert line.endswith("swarm.spawn_rate: starting 10 users at 1e-300 per second takes 1e+301 s; at most 3600 s")


def test_too_many_locust_processes(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", swarm={"users": 100_000, "processes": 100_000}))
    assert "swarm.processes: must be from 1 to 64, got 100000" in line, line


def test_a_fifo_named_yaml_never_blocks(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    _write(folder / "fine.yaml", name="fine")
    os.mkfifo(folder / "pipe.yaml")
    assert _refused(tmp_path, folder) == f"{folder / 'pipe.yaml'}: not a regular file; a scenario is a YAML file"
    assert _refused(tmp_path, folder / "pipe.yaml").endswith("not a regular file; a scenario is a YAML file")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Nine levels of ten aliases each: a billion values from a few hundred bytes.
        (
            "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)),
            ":1: more than 100000 values once its aliases are expanded",
        ),
        ("name: " + "9" * 5000 + "\n", ":1: invalid YAML: Exceeds the limit (4300 digits)"),
        ("name: " + "[" * 50_000 + "]" * 50_000 + "\n", ":1: nested too deeply"),
        ("sleep: " + "9" * 400 + "\n", "sleep: must be a finite number, got a whole number of 1329 bits"),
    ],
)
def test_input_shaped_to_be_costly_is_cheap_to_refuse(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "s.yaml"
    others = {key: value for key, value in SCENARIO.items() if key != "sleep"}
    path.write_text(yaml.safe_dump(others) + text if text.startswith("sleep") else text)
    assert expected in _refused(tmp_path, path)


def test_a_long_value_is_quoted_short(tmp_path: Path) -> None:
    line = _refused(tmp_path, _write(tmp_path / "s.yaml", server={"mode": "w" * 100_000}))
    assert len(line) < 300 and "server.mode: unknown value 'wwww" in line, line


def test_the_loopback_check_and_the_client_agree_on_the_host(tmp_path: Path) -> None:
    # urlsplit reads this as 127.0.0.1; urllib3, which locust sends with, as evil.example.
    url = "http://evil.example\\@127.0.0.1:1"
    with pytest.raises(servers.TargetError, match="backslash"):
        servers.check_target(url)
    line = _refused(tmp_path, _write(tmp_path / "s.yaml"), "--target", f"wsgi={url}")
    assert "a backslash, space or control character in a URL" in line, line
