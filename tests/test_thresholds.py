"""Thresholds decide the exit code: they hold (0), one breaks (4, recorded, in JUnit XML), or are malformed (2)."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from djload import thresholds
from djload.summary import Row
from tests.conftest import ScenarioFactory
from tests.helpers import SLEEP, djload


@pytest.mark.parametrize(
    ("condition", "value", "holds"),
    [("< 2100", 2099.9, True), ("< 2100", 2100, False), ("<=2100", 2100, True), ("> 4.5", 5, True),
     (">= 4.5", 4.4, False), ("== 0", 0, True), ("<= 0", 1, False), ("< 1e3", 999, True), ("< 3", None, False)],
)  # fmt: skip
def test_conditions(condition: str, value: float | None, holds: bool) -> None:
    assert thresholds.parse("mean_latency_ms", condition).holds(value) is holds


@pytest.mark.parametrize("condition", ["2100", "< fast", "=< 3", "< 3 ms", "", "<", True, None])
def test_malformed_conditions_are_refused(condition: object) -> None:
    with pytest.raises(ValueError, match="must be a condition like"):
        thresholds.parse("p99_ms", condition)


def test_a_repeat_is_judged_on_its_median_run() -> None:
    runs = [{"scenario": "s", "run": n, "effective_rps": rps, "mean_latency_ms": ms, "status": "completed"}
            for n, rps, ms in ((1, 9.0, 100.0), (2, 5.0, 300.0), (3, 1.0, 900.0))]  # fmt: skip
    row = Row.from_json({"scenario": "s", "effective_rps": 5.0, "mean_latency_ms": 250.0, "runs": runs}, "row")
    (check,) = thresholds.judge(row, (thresholds.parse("mean_latency_ms", "< 280"),))
    assert (check.value, check.passed) == (300.0, False)


def test_thresholds_that_hold_exit_0_and_a_breach_exits_4(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    holds = {"total_errors": "<= 0", "mean_latency_ms": f"< {SLEEP * 1000 * 3}", "effective_rps": "> 1",
             "p95_ms": f">= {SLEEP * 1000}", "server_cpu_ms_per_request": "< 1000"}  # fmt: skip
    path = scenario_file("fine", thresholds=holds, expected={"mean_latency_ms": SLEEP * 1000})
    done = djload("run", path, "--out", tmp_path / "fine", "--fail-on-deviation", "50", "--junit", tmp_path / "a.xml")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "fine" / "summary.json").read_text())
    assert [(c["metric"], c["passed"]) for c in row["thresholds"]] == [(m, True) for m in holds] + [
        ("mean_latency_ms", True)
    ]
    assert row["p95_ms"] <= row["p99_ms"] <= row["p999_ms"] <= row["max_ms"]

    slow = scenario_file("slow", thresholds={"mean_latency_ms": "< 1", "total_errors": "== 0"})
    done = djload("run", path, slow, "--out", tmp_path / "two", "--junit", tmp_path / "junit.xml")
    assert done.returncode == 4, done.stderr + done.stdout
    rows = {row["scenario"]: row for row in json.loads((tmp_path / "two" / "summary.json").read_text())}
    assert rows["slow"]["status"] == "completed"
    (breach,) = [c for c in rows["slow"]["thresholds"] if not c["passed"]]
    assert breach["metric"] == "mean_latency_ms" and breach["condition"] == "< 1" and breach["value"] > SLEEP * 1000
    assert all(c["passed"] for c in rows["fine"]["thresholds"])
    assert "THRESHOLD BREACHED: slow: mean_latency_ms" in done.stdout and " BREACHED " in done.stdout
    assert "| slow | mean_latency_ms | < 1 |" in (tmp_path / "two" / "report.md").read_text()

    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.tag, suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("testsuite", "2", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["fine"].find("failure") is None
    failure = cases["slow"].find("failure")
    assert failure is not None and failure.get("message", "").startswith("mean_latency_ms ")
    assert ET.parse(tmp_path / "a.xml").getroot().get("failures") == "0"


def test_a_deviation_from_expected_beyond_the_limit_exits_4(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(expected={"total_time_s": 2.037, "mean_latency_ms": 2024.5})  # the talk's, 10× our sleep
    done = djload("run", path, "--out", tmp_path / "out", "--fail-on-deviation", "10")
    assert done.returncode == 4, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [(c["metric"], c["condition"], c["passed"]) for c in row["thresholds"]] == [
        ("total_time_s", "within 10% of expected 2.037", False),
        ("mean_latency_ms", "within 10% of expected 2024.5", False),
    ]


def test_bad_thresholds_exit_2_with_file_line_and_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "server: {mode: asgi}\nendpoint: {path: /async/non-blocking/}\nswarm: {users: 1}\nthresholds:\n"
        '  mean_latency: "< 2100"\n  p99_ms: "2500"\n  total_errors: "<= zero"\n  effective_rps: "> 4.5"\n'
    )
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"{path}:5: thresholds.mean_latency: unknown key; did you mean 'mean_latency_ms'?",
        f'{path}:6: thresholds.p99_ms: must be a condition like "< 2100" (<, <=, >, >= or == and a number), '
        "got '2500'",
        f'{path}:7: thresholds.total_errors: must be a condition like "< 2100" (<, <=, >, >= or == and a number), '
        "got '<= zero'",
    ]
    assert not (tmp_path / "out").exists()
    done = djload("run", path, "--out", tmp_path / "out", "--junit", tmp_path / "no" / "such" / "junit.xml")
    assert done.returncode == 2 and "is not a folder" in done.stderr
