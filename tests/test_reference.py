"""A reference generator (wrk) against the same server: its real run, and the clear error where it is missing."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from djload import reference, servers
from djload.scenario import load_file
from tests.conftest import ScenarioFactory
from tests.helpers import djload

needs_wrk = pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (scripts/setup installs it)")


@needs_wrk
def test_wrk_measures_the_served_site(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(
        server={"mode": "wsgi", "workers": 1},
        endpoint={"path": "/sync/computation/", "query": {"times": 10}},
        swarm={"users": 4, "duration": 1},
    )
    scenario = load_file(path)
    (tmp_path / "serve").mkdir()
    with servers.serve(servers.ServerSpec(scenario, tmp_path / "serve")) as server:
        measured = reference.measure("wrk", server.base_url + scenario.endpoint.url_path, 4, 1.0, (), 60)
    assert measured.tool == "wrk" and {"-c4", "-d1s"} <= set(measured.argv)
    # A view of a few microseconds under one sync worker answers hundreds of requests a second at the least.
    assert measured.rps > 50
    lines = (tmp_path / "serve" / "access.log").read_text().splitlines()
    assert len(lines) >= measured.rps * 0.5  # the server saw the requests wrk counted


def test_a_missing_tool_names_the_debian_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(reference.MissingTool, match=r"install the Debian package `wrk`"):
        reference.find("wrk")


def test_the_output_of_wrk_and_oha_gives_the_rate() -> None:
    assert reference.parse_rps("  Requests/sec:   2792.31\nTransfer/sec: 1MB\n") == pytest.approx(2792.31)
    with pytest.raises(reference.ReferenceFailed, match="no Requests/sec"):
        reference.parse_rps("unable to connect to 127.0.0.1:9 Connection refused")


@needs_wrk
def test_a_run_with_reference_wrk_fills_the_row(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(
        server={"mode": "wsgi", "workers": 1},
        endpoint={"path": "/sync/computation/", "query": {"times": 10}},
        swarm={"users": 4, "duration": 1, "reference": "wrk"},
    )
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["reference_tool"] == "wrk" and row["reference_rps"] > 50
    assert "-c4" in row["reference_command"] and "-d1s" in row["reference_command"]
    share = row["effective_rps"] / row["reference_rps"]
    assert row["generator_bound"] is (share < reference.BOUND_SHARE)
    assert f"{share:.0%} of wrk" in done.stdout
    assert "Against a reference generator" in (tmp_path / "out" / "report.md").read_text()


def test_reference_on_the_command_line_without_wrk_is_a_clear_error(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    # Nothing starts and no results folder is made: the tool is looked for before anything else.
    path = scenario_file(swarm={"users": 2, "requests_per_user": 1})
    empty = tmp_path / "bin"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "djload.cli", "run", str(path), "--out", str(tmp_path / "out"), "--reference", "wrk"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": str(empty)},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "djload: reference: wrk is not installed (nor oha); install the Debian package `wrk` (apt-get install wrk)"
    ]
    assert not (tmp_path / "out").exists()


def test_an_open_model_scenario_takes_no_reference(scenario_file: ScenarioFactory) -> None:
    path = scenario_file(swarm={"users": 2, "model": "open", "rate": 10, "duration": 1, "reference": "wrk"})
    done = djload("run", path)
    assert done.returncode == 2 and "swarm.reference: a reference measures the most the server gives" in done.stderr


def test_a_target_s_credentials_go_in_a_header_and_are_never_stored() -> None:
    argv = reference.command("wrk", "/usr/bin/wrk", "http://ann:s3cret@127.0.0.1:8000/x/", 4, 2.0, (), 60)
    assert argv[-1] == "http://127.0.0.1:8000/x/" and "Authorization: Basic YW5uOnMzY3JldA==" in argv
    assert "s3cret" not in " ".join(reference.shown(argv)) and "YW5u" not in " ".join(reference.shown(argv))
