"""`djload compare`: a run against itself (0, no significant change), against a run twice as slow (4), and
against an incomparable one (a warning); significance from the requests or from repeated runs."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from djload.significance import incomplete_beta, mann_whitney_u, welch_t
from tests.helpers import SLEEP, djload


def test_the_tests_give_the_textbook_p_values() -> None:
    assert incomplete_beta(5, 0.5, 10 / (10 + 2.0**2)) == pytest.approx(0.07339, abs=1e-5)  # t = 2, df = 10
    apart = mann_whitney_u(list(range(1, 11)), list(range(11, 21)))
    assert apart.p_value == pytest.approx(0.000183, rel=0.01) and apart.significant
    assert mann_whitney_u([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]).p_value == 1.0
    assert welch_t([1.0, 1.1, 0.9], [2.0, 2.1, 1.9]).p_value == pytest.approx(0.000255, rel=0.01)
    assert not welch_t([1.0, 1.1, 0.9], [1.05, 0.95, 1.1]).significant


def run(folder: Path, sleep: float, name: str = "short", timeout: float = 60) -> Path:
    path = folder / f"{name}-{sleep}-{timeout}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "server": {"mode": "asgi"}, "endpoint": {"path": "/async/non-blocking/"}, "sleep": sleep,
        "swarm": {"users": 10, "requests_per_user": 1, "timeout": timeout},
    }))  # fmt: skip
    out = folder / f"run-{name}-{sleep}-{timeout}"
    done = djload("run", path, "--out", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("compare")
    return run(folder, SLEEP), run(folder, 2 * SLEEP)


def test_a_run_compared_with_itself_has_no_significant_change(runs: tuple[Path, Path], tmp_path: Path) -> None:
    fast, _ = runs
    done = djload("compare", fast, fast, "--out", tmp_path / "cmp")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "short: no significant change; Mann-Whitney U on per-request latencies" in done.stdout
    assert "WARNING" not in done.stdout and "REGRESSION" not in done.stdout
    page = (tmp_path / "cmp" / "compare.html").read_text()
    # Self-contained: the six metrics' old-vs-new bars inline (memory the sixth), nothing fetched from elsewhere.
    assert page.count("data:image/png;base64,") == 6 and not re.search(r'(src|href)="(?!data:|#)', page)
    markdown = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| short |" in markdown and "no significant change" in markdown
    pictures = re.findall(r"!\[[^]]*\]\((figures/compare-[a-z0-9_]+\.png)\)", markdown)
    assert len(pictures) == 6 and all((tmp_path / "cmp" / picture).is_file() for picture in pictures)


def test_a_run_twice_as_slow_is_a_regression(runs: tuple[Path, Path]) -> None:
    fast, slow = runs
    done = djload("compare", fast, slow)
    assert done.returncode == 4, done.stderr + done.stdout
    assert "short: slower; Mann-Whitney U on per-request latencies (n = 10 vs 10" in done.stdout
    assert "REGRESSION: short: Mean latency +" in done.stdout
    assert djload("compare", fast, slow, "--max-regression", "150").returncode == 0  # significant, but < 150%
    back = djload("compare", slow, fast)
    assert back.returncode == 0 and "short: faster;" in back.stdout


def test_incomparable_runs_are_warned_about_and_one_sided_scenarios_listed(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    fast, _ = runs
    other = tmp_path / "other"
    shutil.copytree(fast, other)
    rows = json.loads((other / "summary.json").read_text())
    rows[0]["metadata"]["versions"]["locust"] = "0.0.1"
    rows[0]["metadata"]["versions"]["django"] = "4.2.0"
    rows[0]["metadata"]["cpu_count"] = 64
    rows[0]["metadata"]["cpu_model"] = "Another CPU"
    rows[0]["cpu_placement"] = {"server": [0], "generator": [1]}
    rows[0]["users"] = 20
    rows[0]["workers"] = 2
    extra = rows[0] | {"scenario": "extra"}
    (other / "summary.json").write_text(json.dumps([rows[0], extra]))
    done = djload("compare", fast, other)
    assert done.returncode == 0, done.stderr + done.stdout
    warnings = [line for line in done.stdout.splitlines() if line.startswith("WARNING: not comparable: ")]
    assert any("locust " in w and "→ 0.0.1" in w for w in warnings)
    assert any("django " in w and "→ 4.2.0" in w for w in warnings)
    assert any("CPU count" in w and "→ 64" in w for w in warnings)
    assert any("CPU model" in w and "→ Another CPU" in w for w in warnings)
    assert any(w.startswith("WARNING: not comparable: short: CPU placement ") for w in warnings)
    assert any("short: the scenario differs: workers 1 → 2, users 10 → 20" in w for w in warnings)
    assert done.stdout.index("WARNING") < done.stdout.index("verdict")  # before the table
    assert "extra: only in new" in done.stdout and "REGRESSION" not in done.stdout
    assert "extra: only in old" in djload("compare", other, fast).stdout


def test_scenario_files_that_ask_for_other_runs_are_warned_about(
    runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    fast, _ = runs
    # The same name and table settings; only the swarm's timeout differs between the two files.
    other = run(tmp_path_factory.mktemp("timeout"), SLEEP, timeout=30)
    done = djload("compare", fast, other)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "WARNING: not comparable: short: the scenario files differ in what they ask beyond" in done.stdout
    assert "WARNING" not in djload("compare", fast, fast).stdout


def repeated(folder: Path, latencies: list[float]) -> Path:
    runs = [{"scenario": "s", "run": n, "status": "completed", "mean_latency_ms": ms, "total_time_s": ms / 100,
             "effective_rps": 1000 / ms} for n, ms in enumerate(latencies, 1)]  # fmt: skip
    median = sorted(latencies)[len(latencies) // 2]
    row = {"scenario": "s", "status": "completed", "mean_latency_ms": median, "total_time_s": median / 100,
           "effective_rps": 1000 / median, "runs": runs, "repeat": len(runs)}  # fmt: skip
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps([row]))
    return folder


def test_repeated_runs_are_compared_by_their_spread(tmp_path: Path) -> None:
    old = repeated(tmp_path / "old", [100.0, 103.0, 98.0, 101.0])
    steady = repeated(tmp_path / "steady", [99.0, 102.0, 100.0])
    slower = repeated(tmp_path / "slower", [130.0, 128.0, 133.0])
    done = djload("compare", old, steady)
    assert done.returncode == 0 and "s: no significant change; Welch's t-test on the repeated runs" in done.stdout
    done = djload("compare", old, slower)
    assert done.returncode == 4 and "s: slower; Welch's t-test on the repeated runs (runs = 4 vs 3" in done.stdout


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [("mean_latency_ms", float("nan"), "nan is not a number"), ("total_time_s", -13.0, "-13.0 is a negative time"),
     ("effective_rps", float("inf"), "inf is not a number"), ("schema_version", 7, "schema_version 7 is not one")],
)  # fmt: skip
def test_what_djload_never_writes_is_refused_by_compare_and_report(
    tmp_path: Path, key: str, value: float, said: str
) -> None:
    old = repeated(tmp_path / "old", [100.0, 103.0, 98.0])
    new = repeated(tmp_path / "new", [1000.0, 1030.0, 980.0])  # ten times slower, but its summary says NaN
    path = new / "summary.json"
    (row,) = json.loads(path.read_text())
    path.write_text(json.dumps([row | {key: value}]))  # json writes NaN and Infinity as Python reads them
    for done in (djload("compare", old, new), djload("report", new)):
        assert done.returncode == 2, done.stdout + done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"djload: {path}: row 1: ") and said in line and key in line, line
    assert not (new / "report.html").exists()


def test_a_folder_without_a_summary_exits_2(runs: tuple[Path, Path], tmp_path: Path) -> None:
    done = djload("compare", runs[0], tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("djload: ") and "Traceback" not in done.stderr


def test_a_real_repeated_run_compared_with_itself_uses_the_runs_spread(tmp_path: Path) -> None:
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump({
        "name": "short", "server": {"mode": "asgi"}, "endpoint": {"path": "/async/non-blocking/"}, "sleep": SLEEP,
        "swarm": {"users": 5, "requests_per_user": 1},
    }))  # fmt: skip
    done = djload("run", path, "--out", tmp_path / "runs", "--repeat", "3")
    assert done.returncode == 0, done.stderr
    done = djload("compare", tmp_path / "runs", tmp_path / "runs")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "short: no significant change; Welch's t-test on the repeated runs (runs = 3 vs 3, t = 0.00" in done.stdout
