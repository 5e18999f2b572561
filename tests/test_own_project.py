"""A Django project djload has never seen, driven end to end: a mix under wsgi and asgi, `djload init`, and
every bad case, all before anything boots where the issue is the scenario."""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from djload.servers import free_port
from tests.helpers import SUMMARY_KEYS, djload

SHOP = Path(__file__).parent / "projects" / "shop"
MIX = """requests:
  - path: /items/
    weight: 2
  - path: /items/async/
    weight: 1
  - method: POST
    path: /orders/
    json: {item: 3, quantity: 2}
    status: 201
    weight: 3
"""


def _files(folder: Path) -> dict[str, str]:
    """The project's own files and their hashes (Python's byte-code caches aside)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _scenario(tmp_path: Path, body: str, site: str = "", name: str = "shop") -> Path:
    file = tmp_path / "scenarios" / f"{name}.yaml"
    file.parent.mkdir(exist_ok=True)
    relative = os.path.relpath(SHOP, file.parent)  # relative to the scenario file, as users write it
    site = site or (
        f"site:\n  path: {relative}\n  settings: shop.settings\n"
        f"  setup:\n    - python manage.py migrate --noinput\n  env: {{SHOP_DB: {tmp_path}/shop.sqlite3}}\n"
    )
    file.write_text(
        f"name: {name}\n{site}server: {{mode: asgi, workers: 1}}\nswarm: {{users: 10, requests_per_user: 6}}\n{body}"
    )
    return file


def _orders(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT interface, COUNT(*) FROM store_order GROUP BY interface").fetchall())


def test_a_mix_under_wsgi_and_asgi_exact_per_entry_through_the_named_interface(tmp_path: Path) -> None:
    before = _files(SHOP)
    scenario = _scenario(tmp_path, MIX + "matrix:\n  server.mode: [wsgi, asgi]\n")
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    rows = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [row["server_mode"] for row in rows] == ["wsgi", "asgi"]
    for row in rows:
        assert set(row) >= SUMMARY_KEYS and row["status"] == "completed"
        assert (row["completed_requests"], row["total_errors"]) == (60, 0)  # the whole mix's metrics
        by_request = row["by_request"]
        assert [(e["method"], e["path"], e["async"]) for e in by_request] == [
            ("GET", "/items/", False), ("GET", "/items/async/", True), ("POST", "/orders/", False)]  # fmt: skip
        assert [e["completed_requests"] for e in by_request] == [20, 10, 30]
        assert [e["total_errors"] for e in by_request] == [0, 0, 0]
        for entry in by_request:
            assert 0 < entry["p50_ms"] <= entry["p90_ms"] <= entry["p99_ms"] and entry["mean_latency_ms"] > 0
        assert abs(sum(e["effective_rps"] for e in by_request) - row["effective_rps"]) < 0.05
    # The project's own database: every POST, served by the interface its scenario named.
    assert _orders(tmp_path / "shop.sqlite3") == {"wsgi": 30, "asgi": 30}
    # The per-request table, in the terminal and in the report.
    assert "POST /orders/" in done.stdout and "async" in done.stdout
    assert "POST /orders/" in (tmp_path / "out" / "report.md").read_text()
    assert "migrate" in (tmp_path / "out" / "shop-wsgi" / "setup.log").read_text()
    assert _files(SHOP) == before  # djload changed none of the project's files


def test_djload_init_writes_a_starter_that_runs_as_written_with_0_errors(tmp_path: Path) -> None:
    # The database is what the project's settings say: here a migrated file of the test's own, which
    # djload init's anonymous GETs read too.
    env = {**os.environ, "SHOP_DB": str(tmp_path / "init.sqlite3")}
    migrate = [sys.executable, "manage.py", "migrate", "--noinput"]
    subprocess.run(migrate, cwd=SHOP, env=env, check=True, capture_output=True)
    out = tmp_path / "scenarios" / "shop.yaml"
    init = [sys.executable, "-m", "djload.cli", "init", str(SHOP), "--settings", "shop.settings", "--out", str(out)]
    done = subprocess.run(init, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout and f"djload run {out}" in done.stdout
    written = out.read_text()
    for route in ("/items/", "/items/async/"):
        assert f"- path: {route}  #" in written
    # The DetailView's route takes its model's keys; a function view's route is left for the user to fill.
    assert "- path: '/items/{pk}/page/'  # store.pages.ItemPage (sync): a DetailView of store.Item\n" in written
    assert "    values: {pk: {model: store.Item}}" in written
    assert "# - path: /items/<int:pk>/  # store.views.item" in written
    # /orders/ takes only POST: asked once, it answered 405, and is left out with the reason.
    assert "# /orders/: left out, it answered 405 to GET" in written and "- path: /orders/" not in written
    again = djload("init", SHOP, "--settings", "shop.settings", "--out", out)
    assert again.returncode == 2 and "exists already" in again.stderr and out.read_text() == written
    run = subprocess.run([sys.executable, "-m", "djload.cli", "run", str(out), "--out", str(tmp_path / "out")],
                         env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr + run.stdout
    rows = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [row["server_mode"] for row in rows] == ["wsgi", "wsgi-gthread", "asgi"], run.stderr
    for row in rows:
        counts = {e["path"]: (e["completed_requests"], e["total_errors"]) for e in row["by_request"]}
        # 10 users × 15 requests over 5 entries, 0 errors: the starter runs as written (the POST-only routes
        # left out, the signed-in pages commented out under the login: block).
        assert counts == {"/": (30, 0), "/items/": (30, 0), "/items/async/": (30, 0), "/accounts/login/": (30, 0),
                          "/items/{pk}/page/": (30, 0)}  # fmt: skip


def test_a_path_the_project_does_not_resolve_is_exit_2_before_anything_boots(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, MIX.replace("/items/async/", "/items/asynk/"))
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{scenario}:13: requests[1].path: '/items/asynk/' does not resolve in shop.settings; "
        "did you mean '/items/async/'?"
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "shop.sqlite3").exists()  # nothing ran, not setup


def test_a_project_that_does_not_import_is_exit_2_with_the_errors_last_line(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, MIX)
    scenario.write_text(scenario.read_text().replace("settings: shop.settings", "settings: shop.settingz"))
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{scenario}:2: site.settings: shop.settingz does not import: ModuleNotFoundError: No module named "
        "'shop.settingz'"
    )
    assert not (tmp_path / "out").exists()
    init = djload("init", SHOP, "--settings", "shop.settingz", "--out", tmp_path / "x.yaml")
    assert init.returncode == 2 and "No module named 'shop.settingz'" in init.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_a_failing_setup_command_is_a_boot_failure_with_its_output(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, MIX)
    scenario.write_text(scenario.read_text().replace("manage.py migrate", "manage.py migrat"))
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 3, done.stderr
    assert "setup command 'python manage.py migrat --noinput' exited with code 1" in done.stderr
    assert "Unknown command: 'migrat'" in done.stderr  # the command's own output
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["status"] == "boot_failed" and "Unknown command" in row["problem"]


def test_a_setup_runs_once_per_boot_also_when_it_fails(tmp_path: Path) -> None:
    """The first run's server boots ahead (beside its locust): a failing setup there is the run's failure,
    not a second boot. Each command appends a line to a file: the lines are the runs."""
    counted = tmp_path / "runs.txt"
    for fails, expected in ((True, 3), (False, 0)):
        counted.unlink(missing_ok=True)
        scenario = _scenario(tmp_path, MIX)
        last = "exit 1" if fails else "python manage.py migrate --noinput"
        text = scenario.read_text().replace(
            "    - python manage.py migrate --noinput\n", f"    - echo ran >> {counted}\n    - {last}\n"
        )
        scenario.write_text(text)
        out = tmp_path / f"out-{fails}"
        done = djload("run", scenario, "--out", out)
        assert done.returncode == expected, done.stderr + done.stdout
        assert counted.read_text() == "ran\n", (done.stderr, counted.read_text())
        if fails:
            assert "setup command 'exit 1' exited with code 1" in done.stderr
            assert (out / "shop" / "setup.log").read_text().count("$ exit 1") == 1


def test_every_server_mode_serves_a_project_ready_on_any_answer_below_500(tmp_path: Path) -> None:
    site = f"site:\n  path: {SHOP}\n  settings: shop.settings\n  ready: /no/such/page/\n"  # a 404 means it is up
    site += f"  setup: [python manage.py migrate --noinput]\n  env: {{SHOP_DB: {tmp_path}/shop.sqlite3}}\n"
    body = "endpoint: {path: /items/async/}\nmatrix:\n  server.mode: [wsgi, wsgi-gthread, asgi, asgi-native, uvicorn]\n"
    scenario = _scenario(tmp_path, body, site)
    scenario.write_text(
        scenario.read_text().replace("users: 10, requests_per_user: 6", "users: 2, requests_per_user: 3")
    )
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    rows = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [row["server_mode"] for row in rows] == ["wsgi", "wsgi-gthread", "asgi", "asgi-native", "uvicorn"]
    for row in rows:
        assert row["endpoint"] == "/items/async/" and row["completed_requests"] == 6 and row["total_errors"] == 0
        assert [(e["path"], e["completed_requests"], e["async"]) for e in row["by_request"]] == [
            ("/items/async/", 6, True)
        ]


def test_the_web_ui_refuses_a_mix_with_the_command_that_runs_it(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, MIX)
    done = djload("ui", scenario, "--web-port", str(free_port()), "--out", tmp_path / "ui")
    assert done.returncode == 2 and f"run a mix or your own project with: djload run {scenario}" in done.stderr
    assert not (tmp_path / "ui").exists()


def test_a_count_that_is_not_a_multiple_over_two_locust_processes_still_totals_exactly(tmp_path: Path) -> None:
    # 7 requests of 2:1:3 per user; 12 users start at every place of the 6-long cycle twice, numbered
    # across both locust processes, so the totals are exact: 28, 14 and 42.
    scenario = _scenario(tmp_path, MIX)
    text = scenario.read_text().replace(
        "users: 10, requests_per_user: 6", "users: 12, requests_per_user: 7, processes: 2"
    )
    scenario.write_text(text)
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [e["completed_requests"] for e in row["by_request"]] == [28, 14, 42]
    assert _orders(tmp_path / "shop.sqlite3") == {"asgi": 42}


def test_djload_init_writes_scenarios_project_yaml_by_default(tmp_path: Path) -> None:
    # Its GETs read the database the settings name: the test's own, never a file in the project's folder.
    env = {**os.environ, "SHOP_DB": str(tmp_path / "unmigrated.sqlite3")}
    init = [sys.executable, "-m", "djload.cli", "init", str(SHOP), "--settings", "shop.settings"]
    done = subprocess.run(init, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("wrote scenarios/shop.yaml: 5 routes as GET requests")
    # Not migrated: the routes that read the database answered 500 when asked, and the starter says so.
    assert (
        "- path: /items/  # store.views.items (sync), answered 500"
        in (tmp_path / "scenarios" / "shop.yaml").read_text()
    )
    assert done.stdout.splitlines()[-1] == "  djload run scenarios/shop.yaml"
    assert (
        "  path: " + os.path.relpath(SHOP, tmp_path / "scenarios") in (tmp_path / "scenarios" / "shop.yaml").read_text()
    )


def test_a_projects_row_names_its_site_and_gets_no_ideal_for_a_path_djload_does_not_model(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "endpoint: {path: /items/}\n")
    scenario.write_text(
        scenario.read_text().replace("mode: asgi", "mode: wsgi").replace("requests_per_user: 6", "requests_per_user: 1")
    )
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["site"] == f"{SHOP.resolve()} (shop.settings)" and row["completed_requests"] == 10
    assert row["schema_version"] == 1 and set(row) >= SUMMARY_KEYS
    ideal = ("ideal_total_time_s", "ideal_mean_latency_ms", "ideal_slots", "deviates_from_ideal")
    assert [row[key] for key in ideal] == [None] * 4 and row["ideal_rule"] == ""
    report_md = (tmp_path / "out" / "report.md").read_text()
    assert "The ideal model applies only to views whose work djload knows" in report_md
