"""The capacity search: its scenario section's bad input, the search's rule, and the physics of real servers."""

import base64
import json
import time
from pathlib import Path

import pytest

from djload.capacity import Step, limited_by, next_rate
from djload.capacityspec import Capacity
from djload.thresholds import condition_of
from tests.helpers import djload

ROOT = Path(__file__).parent.parent
PHYSICS = ROOT / "scenarios" / "capacity" / "physics"
GOOD = "server: {mode: wsgi}\nendpoint: {path: /sync/blocking/}\nsleep: 0.05\n"


def _bad(tmp_path: Path, text: str, *options: str) -> list[str]:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD + text)
    done = djload("run", path, "--out", tmp_path / "out", *options)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()  # refused before anything booted or was written
    return [line.removeprefix(f"{path}:") for line in done.stderr.splitlines()]


def test_a_search_that_asks_two_things_or_nothing_is_refused_with_its_lines(tmp_path: Path) -> None:
    lines = _bad(tmp_path, "swarm: {users: 10, requests_per_user: 2, duration: 3, model: open, rate: 5}\n"
                           "capacity:\n  max_rate: 5\n  start_rate: 10\n  step_s: 0.5\n")  # fmt: skip
    assert '5: capacity.slo: missing; the search needs an SLO, e.g. slo: {p99_ms: "< 250"}' in lines
    assert "8: capacity.step_s: must be from 1 to 60, got 0.5" in lines
    assert "6: capacity.max_rate: must be above start_rate (10), got 5" in lines
    for key in ("requests_per_user", "duration", "model", "rate"):
        assert any(line.startswith(f"4: swarm.{key}: the capacity search decides the load") for line in lines), key
    lines = _bad(tmp_path, 'swarm: {users: 10}\ncapacity: {slo: {p99: "< 250", p50_ms: "fast"}, max_rate: 100, '
                           "step_s: 61}\n")  # fmt: skip
    assert lines[0] == "5: capacity.slo.p99: unknown metric; did you mean 'p99_ms'?"
    assert lines[1].startswith('5: capacity.slo.p50_ms: must be a condition like "< 2100"')
    assert lines[2] == "5: capacity.step_s: must be from 1 to 60, got 61.0"
    done = djload("run", PHYSICS / "wsgi-sync.yaml", "--duration", "3", "--out", tmp_path / "out")
    assert done.returncode == 2 and "the capacity search decides the load" in done.stderr
    assert not (tmp_path / "out").exists()


def test_the_search_worst_case_counts_in_the_cost_bounds(tmp_path: Path) -> None:
    # 100,000 requests/s held 60 s: the worst case is millions of requests and a quarter of an hour per search.
    lines = _bad(tmp_path, 'swarm: {users: 10}\ncapacity: {slo: {p99_ms: "< 250"}, max_rate: 100000, step_s: 60}\n')
    assert any("capacity: the search may send" in line and "needs --i-know-its-huge" in line for line in lines)
    files = tmp_path / "many"
    files.mkdir()
    search = 'swarm: {users: 10}\ncapacity: {slo: {p99_ms: "< 250"}, max_rate: 1000, step_s: 60}\n'
    for n in range(5):  # each search alone fits; together they may take 5 × 13 steps × 60 s
        (files / f"s{n}.yaml").write_text(GOOD + f"name: s{n}\n" + search)
    done = djload("run", files, "--out", tmp_path / "out")
    assert done.returncode == 2 and "capacity searches may take" in done.stderr and "Traceback" not in done.stderr


def _step(rate: float, why: str = "", late_ms: float = 0.5, server_failed: bool = True) -> Step:
    return Step(rate, rate, 60.0, 100.0, 0, late_ms, 1.0, 20.0, why, server_failed=server_failed and bool(why))


def test_the_rates_double_then_bisect_to_within_five_percent() -> None:
    capacity = Capacity((condition_of("p99_ms", "< 250"),), max_rate=3000, step_s=2, start_rate=10)
    steps: list[Step] = []
    serves = 20.0  # what a server holds: rates above it fail
    while (rate := next_rate(capacity, steps)) is not None:
        steps.append(_step(rate, "" if rate <= serves else "p99_ms breaks < 250"))
    offered = [s.offered_rps for s in steps]
    assert offered[:3] == [10, 20, 40]
    low = max(s.offered_rps for s in steps if s.passed)
    high = min(s.offered_rps for s in steps if not s.passed)
    assert low == 20 and high <= low * 1.05 and limited_by(capacity, steps) == "slo"
    # A server that holds every rate: the search ends at max_rate, offered once.
    steps = []
    while (rate := next_rate(capacity, steps)) is not None:
        steps.append(_step(rate))
    assert steps[-1].offered_rps == 3000 and limited_by(capacity, steps) == "max_rate"
    # The first failing rate failed only for locust's lateness: the capacity is the generator's.
    steps = [_step(10), _step(20, "the generator fell behind", late_ms=30, server_failed=False)]
    assert limited_by(capacity, steps) == "generator"


def test_three_modes_searched_on_real_servers_find_their_physical_capacity(tmp_path: Path) -> None:
    """One sync worker on a 50 ms sleep serves 20 requests/s, gthread with 4 threads 80, the async view under
    ASGI far more: waiting, not CPU, so it holds on a noisy machine."""
    started = time.monotonic()
    done = djload("run", PHYSICS, "--out", tmp_path / "out")
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert took < 400
    rows = {row["scenario"]: row for row in json.loads((tmp_path / "out" / "summary.json").read_text())}
    expected = {"capacity-wsgi-sync": (15, 21), "capacity-wsgi-gthread-4": (60, 84), "capacity-asgi-async": (150, 1e9)}
    for name, (low, high) in expected.items():
        row = rows[name]
        assert low <= row["capacity_rps"] <= high, (name, row["capacity_steps"])
        assert row["capacity_limited_by"] in ("slo", "max_rate", "generator")
        assert 5 <= row["server_memory_mib"] <= 4000  # the server's memory, as in every row
        steps = row["capacity_steps"]
        assert len(steps) >= 3
        assert set(steps[0]) >= {"offered_rps", "achieved_rps", "p50_ms", "p99_ms", "errors", "generator_late_ms",
                                 "server_cpu_ms_per_request", "passed"}  # fmt: skip
        for step in steps:
            assert (step["passed"] and step["p99_ms"] < 250) or not step["passed"]
            assert step["achieved_rps"] <= step["offered_rps"] * 1.1  # no more answers than requests sent
        # The slide's metrics of the row are those of the step at capacity.
        best = max((s for s in steps if s["passed"]), key=lambda s: s["offered_rps"])
        assert row["p99_ms"] == pytest.approx(best["p99_ms"], abs=0.01)
        assert row["completed_requests"] == round(best["offered_rps"] * 2)
        assert (tmp_path / "out" / name / "steps" / "step-01" / "requests.csv").is_file()
    if rows["capacity-wsgi-gthread-4"]["capacity_limited_by"] != "generator":
        assert "capacity_limited_by: generator" not in done.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Capacity" in report and "capacity-wsgi-gthread-4" in report.split("## Capacity")[1]
    page = (tmp_path / "out" / "report.html").read_text()
    png = (tmp_path / "out" / "figures" / "capacity-1.png").read_bytes()
    assert base64.b64encode(png).decode() in page
    assert "capacity" in done.stdout.splitlines()[0]  # the console's column


def test_a_mix_is_searched_in_its_weighted_order_up_to_max_rate(tmp_path: Path) -> None:
    """Every rate up to max_rate passes on a server far above it: the search ends there, the row at capacity
    has the mix's entries in their weights."""
    path = tmp_path / "mix.yaml"
    path.write_text(
        "server: {mode: asgi}\nsleep: 0.01\nrequests:\n  - {path: /async/non-blocking/, weight: 3}\n"
        '  - {path: /health/, weight: 1}\nswarm: {users: 20}\ncapacity: {slo: {p99_ms: "< 1000"}, max_rate: 30, '
        "step_s: 1}\n"
    )
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [s["offered_rps"] for s in row["capacity_steps"]] == [10, 20, 30]
    assert row["capacity_rps"] == 30 and row["capacity_limited_by"] == "max_rate"
    entries = {entry["path"]: entry["completed_requests"] for entry in row["by_request"]}
    assert sum(entries.values()) == 30 and abs(entries["/async/non-blocking/"] - 22.5) <= 1  # weights 3:1


def test_a_projects_signed_in_pages_are_searched_after_one_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """capacity with login: and a user's project: the searching client signs in once, so every step's
    login-required page answers as the signed-in user's (contains), and no step counts the sign-in."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Sekr3t-pw-4711")
    shop = ROOT / "tests" / "projects" / "shop"
    path = tmp_path / "shop.yaml"
    path.write_text(
        f"site:\n  path: {shop}\n  settings: shop.settings\n"
        "  setup: [python manage.py migrate --noinput, python manage.py shop_user alice]\n"
        f"  env: {{SHOP_DB: {tmp_path}/shop.sqlite3}}\n"
        "login: {path: /accounts/login/, username: alice, password_env: DJANGO_SUPERUSER_PASSWORD}\n"
        "requests:\n  - {path: /account/orders/, contains: Orders of alice}\nserver: {mode: wsgi}\n"
        'swarm: {users: 10}\ncapacity: {slo: {p99_ms: "< 2000"}, max_rate: 20, step_s: 1}\n'
    )
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [(s["offered_rps"], s["errors"]) for s in row["capacity_steps"]] == [(10, 0), (20, 0)]
    assert row["capacity_rps"] == 20 and row["capacity_limited_by"] == "max_rate"
    assert row["by_request"][0]["completed_requests"] == 20
