"""Progress: a live bar with the current scenario's requests and errors, plain lines for CI, or nothing."""

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from djload.progress import read_counts, tracker
from tests.conftest import ScenarioFactory
from tests.helpers import SLEEP, djload


def test_the_bar_shows_scenarios_done_and_the_current_requests(capsys: pytest.CaptureFixture[str]) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with tracker(3, "bar", console) as progress:
        for name in ("one", "two", "three"):
            progress.start(name, 10)
            progress.update(7, 1)
            progress.done("completed")
    shown = screen.getvalue()
    assert "3/3" in shown and "three" in shown and "7/10" in shown and "1 errors" in shown
    assert capsys.readouterr() == ("", "")


def test_plain_prints_one_line_per_scenario_and_off_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with tracker(2, "plain") as progress:
        progress.start("one", 10)
        progress.update(5, 0)
        progress.done("completed, 10/10 requests")
    assert capsys.readouterr() == ("", "[1/2] one: completed, 10/10 requests\n")
    for mode in ("off", "auto"):  # under pytest stderr is captured: not a terminal
        with tracker(2, mode) as progress:
            progress.start("one", 10)
            progress.done("completed")
        assert capsys.readouterr() == ("", "")


def test_counts_are_summed_over_the_swarms_processes(tmp_path: Path) -> None:
    (tmp_path / "progress-1.json").write_text(json.dumps({"done": 5, "errors": 1}))
    (tmp_path / "progress-2.json").write_text(json.dumps({"done": 7, "errors": 0}))
    (tmp_path / "progress-3.json").write_text("{")  # being written: read at the next poll
    assert read_counts(tmp_path) == (12, 1)


def test_overrides_apply_to_every_scenario_are_recorded_and_plain_progress_is_logged(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario_file(server={"mode": "wsgi"}, endpoint={"path": "/sync/blocking/"})
    done = djload("run", path, "--out", tmp_path / "out", "--users", "4", "--requests-per-user", "2",
                  "--spawn-rate", "100", "--progress", "plain")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (row["users"], row["requests_per_user"], row["expected_requests"], row["completed_requests"]) == (4, 2, 8, 8)
    assert row["spawn_rate"] == 100 and row["overrides"] == {"users": 4, "requests_per_user": 2, "spawn_rate": 100}
    assert "[1/1] short: wsgi /sync/blocking/: completed, 8/8 requests, 0 errors, " in done.stderr
    # The swarm counted its requests while it ran (8 × SLEEP serialised: several counts written).
    (counts,) = (tmp_path / "out" / "short").glob("progress-*.json")
    assert 0 < json.loads(counts.read_text())["done"] <= 8


def test_overrides_are_checked_like_the_yaml_fields(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file()
    for options, message in [
        (["--users", "0"], "argument --users: must be from 1 to 100000, got 0"),
        (["--duration", "-1"], "argument --duration: must be greater than 0 and at most 3600, got -1.0"),
        (["--requests-per-user", "two"], "argument --requests-per-user: must be an integer, got 'two'"),
        (["--duration", "1", "--requests-per-user", "2"], "--requests-per-user, --duration: give one of them"),
        # Overrides cost like the fields they replace: within the budget, or --i-know-its-huge.
        (["--users", "20000"], "--users: 20,000 users, each a connection on both sides; more than 10,000 needs"),
        (["--requests-per-user", "2000"], "--requests-per-user: may take 120,001 s (each request up to the timeout)"),
    ]:
        done = djload("run", path, "--out", tmp_path / "out", *options)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "out").exists()
    assert SLEEP > 0
