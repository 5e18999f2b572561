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
    done = djload(
        "run", path, "--out", tmp_path / "fine", "--fail-on-deviation", "50", "--junit", tmp_path / "new" / "a.xml"
    )
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
    assert ET.parse(tmp_path / "new" / "a.xml").getroot().get("failures") == "0"  # its folder made


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
    (tmp_path / "a-file").write_text("")
    done = djload("run", path, "--out", tmp_path / "out", "--junit", tmp_path / "a-file" / "no" / "junit.xml")
    assert done.returncode == 2 and f"{tmp_path / 'a-file'} is not a folder" in done.stderr


SHOP = Path(__file__).parent / "projects" / "shop"


def _shop_mix(tmp_path: Path, thresholds: str) -> Path:
    """A mix of the shop project's two item views, asgi, 4 users × 3 requests, with the given thresholds."""
    path = tmp_path / "mix.yaml"
    path.write_text(
        f"name: mix\nsite:\n  path: {SHOP}\n  settings: shop.settings\n  setup: [python manage.py migrate --noinput]\n"
        f"  env: {{SHOP_DB: {tmp_path}/shop.sqlite3}}\nserver: {{mode: asgi}}\n"
        "requests:\n  - {path: /items/, weight: 2}\n  - {path: /items/async/, weight: 1}\n"
        f"swarm: {{users: 4, requests_per_user: 3}}\nthresholds:\n{thresholds}"
    )
    return path


def test_a_mix_entry_has_thresholds_of_its_own(tmp_path: Path) -> None:
    path = _shop_mix(
        tmp_path,
        '  by_request[/items/].p99_ms: "< 5000"\n'
        '  by_request[GET /items/async/].completed_requests: "== 4"\n'
        '  by_request[/items/async/].max_ms: "< 0.001"\n'
        '  total_errors: "== 0"\n',
    )
    done = djload("run", path, "--out", tmp_path / "out", "--junit", tmp_path / "junit.xml")
    assert done.returncode == 4, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["status"] == "completed"
    entries = {entry["path"]: entry for entry in row["by_request"]}
    assert [(c["metric"], c["condition"], c["value"], c["passed"]) for c in row["thresholds"]] == [
        ("by_request[/items/].p99_ms", "< 5000", entries["/items/"]["p99_ms"], True),
        ("by_request[GET /items/async/].completed_requests", "== 4", 4, True),
        ("by_request[/items/async/].max_ms", "< 0.001", entries["/items/async/"]["max_ms"], False),
        ("total_errors", "== 0", 0, True),
    ]
    assert entries["/items/"]["p95_ms"] <= entries["/items/"]["p999_ms"] <= entries["/items/"]["max_ms"]
    assert "THRESHOLD BREACHED: mix: by_request[/items/async/].max_ms " in done.stdout
    assert "| mix | by_request[/items/async/].max_ms | < 0.001 |" in (tmp_path / "out" / "report.md").read_text()
    (failure,) = ET.parse(tmp_path / "junit.xml").getroot().iter("failure")
    assert failure.get("message", "").startswith("by_request[/items/async/].max_ms ")


def test_a_mix_entry_threshold_that_names_no_entry_or_metric_exits_2(tmp_path: Path) -> None:
    path = _shop_mix(
        tmp_path,
        '  by_request[/items/asynk/].p99_ms: "< 50"\n'
        '  by_request[/items/].p99: "< 50"\n'
        '  by_request[POST /items/].p99_ms: "< 50"\n'
        '  by_request[/items/].mean_latency_ms: "fast"\n',
    )
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"{path}:13: thresholds.by_request[/items/asynk/].p99_ms: unknown request '/items/asynk/' of the mix; "
        "did you mean '/items/async/'?",
        f"{path}:14: thresholds.by_request[/items/].p99: unknown metric 'p99' of a request; did you mean 'p99_ms'?",
        f"{path}:15: thresholds.by_request[POST /items/].p99_ms: unknown request 'POST /items/' of the mix; "
        "did you mean 'GET /items/'?",
        f'{path}:16: thresholds.by_request[/items/].mean_latency_ms: must be a condition like "< 2100" (<, <=, >, >= '
        "or == and a number), got 'fast'",
    ]
    assert not (tmp_path / "out").exists() and not (tmp_path / "shop.sqlite3").exists()
    one = tmp_path / "one.yaml"
    one.write_text(
        "server: {mode: asgi}\nendpoint: {path: /async/non-blocking/}\nswarm: {users: 1}\n"
        'thresholds:\n  by_request[/async/non-blocking/].p99_ms: "< 50"\n'
    )
    done = djload("run", one, "--out", tmp_path / "out")
    assert done.returncode == 2 and done.stderr.strip() == (
        f"{one}:5: thresholds.by_request[/async/non-blocking/].p99_ms: only a mix (requests:) has per-request "
        "metrics; this scenario sends to one endpoint"
    )


def test_two_methods_to_one_path_are_told_apart_by_method() -> None:
    mix = [("GET", "/orders/"), ("POST", "/orders/")]
    with pytest.raises(ValueError, match=r"the mix sends GET and POST to /orders/: name one, e\.g\. "):
        thresholds.parse("by_request[/orders/].p99_ms", "< 50", mix)
    check = thresholds.parse("by_request[POST /orders/].p99_ms", "< 50", mix)
    row = Row.from_json({"scenario": "s", "by_request": [{"method": "GET", "path": "/orders/", "p99_ms": 80.0},
                                                         {"method": "POST", "path": "/orders/", "p99_ms": 20.0}]},
                        "row")  # fmt: skip
    ((judged),) = thresholds.judge(row, (check,))
    assert (judged.value, judged.passed) == (20.0, True)


def test_with_repeat_the_thresholds_judge_the_median_run(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(thresholds={"mean_latency_ms": f"> {SLEEP * 1000}", "max_ms": "< 1"})
    done = djload("run", path, "--out", tmp_path / "out", "--repeat", "3", "--progress", "plain")
    assert done.returncode == 4, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    runs = row["runs"]
    assert len(runs) == 3 and all(run["status"] == "completed" for run in runs)
    median = min(runs, key=lambda run: abs(run["effective_rps"] - row["effective_rps"]))  # the run at the median RPS
    assert [(c["metric"], c["value"], c["passed"]) for c in row["thresholds"]] == [
        ("mean_latency_ms", median["mean_latency_ms"], True),
        ("max_ms", median["max_ms"], False),
    ]
    assert "[1/1] short: asgi /async/non-blocking/: completed, 10/10 requests, 0 errors, " in done.stderr
    assert done.stderr.rstrip().endswith("1 threshold(s) breached")


def test_a_failed_run_is_a_junit_error_and_exit_1_not_4(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    # Every request outlives the swarm's timeout: the run fails (exit 1 comes before a breach's 4).
    path = scenario_file("late", swarm={"users": 2, "requests_per_user": 1, "timeout": SLEEP / 4},
                         thresholds={"max_ms": "< 1"})  # fmt: skip
    done = djload("run", path, "--out", tmp_path / "out", "--junit", tmp_path / "junit.xml")
    assert done.returncode == 1, done.stderr + done.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "1")
    (case,) = suite.iter("testcase")
    error = case.find("error")
    assert error is not None and error.get("type") == "failed" and "2 requests failed" in error.get("message", "")
