"""Progress: a live bar with the current scenario's requests and errors, plain lines for CI, or nothing."""

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
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
            progress.start(name, 10, "run 2/3" if name == "three" else "")
            progress.update(7, 1)
            progress.done("completed")
    shown = screen.getvalue()
    assert "3/3" in shown and "three (run 2/3)" in shown and "7/10" in shown and "1 errors" in shown
    assert capsys.readouterr() == ("", "")


def test_plain_prints_one_line_per_scenario_and_off_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with tracker(2, "plain") as progress:
        progress.start("one", 10, "run 3/3")  # the line at the end is the scenario's, not its last run's
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


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_on_a_terminal_the_live_line_counts_the_current_scenarios_requests(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    """djload run on a real pseudo-terminal: the requests done of expected climb while the swarm runs."""
    # One WSGI worker serialises 8 requests of SLEEP: about 8 × SLEEP, while the counts are written twice a second.
    path = scenario_file("serial", server={"mode": "wsgi"}, endpoint={"path": "/sync/blocking/"},
                         swarm={"users": 8, "requests_per_user": 1})  # fmt: skip
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    env.pop("TERM_PROGRAM", None)
    process = subprocess.Popen([sys.executable, "-m", "djload.cli", "run", str(path), "--out", str(tmp_path / "out")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, env=env)  # fmt: skip
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's last writer has gone
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 0, screen.decode(errors="replace")
    shown = ANSI.sub("", screen.decode(errors="replace"))
    assert "serial: wsgi /sync/blocking/" in shown and "1/1 scenarios" in shown
    counts = {int(done) for done in re.findall(r"\b(\d)/8 requests", shown)}
    assert 8 in counts and counts & set(range(1, 8)), shown  # seen while it ran, not only at the end
    assert "0 errors" in shown and re.search(r"\b0:00:0\d\b", shown)  # the elapsed time
    assert b"/8 requests" not in stdout and b"serial" in stdout  # the live line on the terminal, the table on stdout


def test_a_duration_override_makes_every_scenario_a_timed_run(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(swarm={"users": 2, "requests_per_user": 3})
    done = djload("run", path, "--out", tmp_path / "out", "--duration", "1", "--progress", "plain")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["overrides"] == {"duration": 1} and row["duration_s"] == 1 and row["expected_requests"] is None
    # 2 users for 1 s of SLEEP-long requests: at most 2 / SLEEP of them (plus the two in flight at the end).
    assert 2 <= row["completed_requests"] <= 2 / SLEEP + 2 and 0.9 < row["total_time_s"] < 3
    assert "[1/1] short: asgi /async/non-blocking/: completed, " in done.stderr
