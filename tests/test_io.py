"""`djload run` of the database and upstream views: the stack booted for the run, its numbers, and
nothing left running after a run, a failure or Ctrl-C."""

import json
import re
import signal
from pathlib import Path

import psutil
import pytest
import yaml

from djload import servers
from djload.scenario import Database, load_file
from tests.conftest import Run, ScenarioFactory, new_results
from tests.helpers import djload, run_one

SLEEP = 0.5
USERS = 10


def _is_stack(line: str) -> bool:
    return "djload-postgres-" in line or "djload.upstream_app" in line


def _orphans() -> list[str]:
    """A booted PostgreSQL or upstream whose djload is gone (adopted by init): left behind.

    Others' runs may have theirs up at the same moment, under their own djload; those are not counted.
    """
    found = []
    for process in psutil.process_iter(["cmdline", "ppid"]):
        line = " ".join(process.info["cmdline"] or [])
        if _is_stack(line) and process.info["ppid"] == 1 and process.status() != psutil.STATUS_ZOMBIE:
            found.append(line)
    return found


def test_the_database_section_is_read(scenario_file: ScenarioFactory) -> None:
    scenario = load_file(scenario_file(database={"engine": "postgres", "pool": True}))
    assert scenario.database == Database("postgres", pool=True, conn_max_age=0, url=None)
    assert load_file(scenario_file()).database == Database("sqlite")


def test_http_async_overlaps_under_one_asgi_worker_while_http_sync_serialises_under_one_sync_worker(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    before = _orphans()
    overlapped = run_one(
        scenario_file("http-async", server={"mode": "asgi"}, endpoint={"path": "/http/async/"}, sleep=SLEEP,
                      swarm={"users": USERS}),
        tmp_path / "async",
    )  # fmt: skip
    serialised = run_one(
        scenario_file("http-sync", server={"mode": "wsgi"}, endpoint={"path": "/http/sync/"}, sleep=SLEEP,
                      swarm={"users": USERS}),
        tmp_path / "sync",
    )  # fmt: skip
    # All ten wait on the upstream at once: about one sleep, far below the ten sleeps of one at a time.
    assert overlapped["total_errors"] == 0 and overlapped["total_time_s"] < USERS * SLEEP / 3
    assert serialised["total_errors"] == 0 and serialised["total_time_s"] > USERS * SLEEP * 0.9
    # The ideal model knows the upstream views' physics.
    assert overlapped["ideal_slots"] is None and serialised["ideal_slots"] == 1
    assert serialised["deviates_from_ideal"] is False
    assert serialised["log_peak_in_view"] == 1 and overlapped["log_peak_in_view"] == USERS
    assert (tmp_path / "async" / "upstream.log").exists()
    assert _orphans() == before


def test_database_views_on_sqlite_and_a_booted_postgres_under_wsgi_and_asgi(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for engine in ("sqlite", "postgres"):
        for mode, path in (("wsgi", "/db/sync/"), ("asgi", "/db/async/"), ("asgi", "/db/write/async/")):
            name = f"{engine}-{mode}-{path.strip('/').replace('/', '-')}"
            scenario = {
                "name": name,
                "server": {"mode": mode},
                "endpoint": {"path": path},
                "database": {"engine": engine, "pool": engine == "postgres" and mode == "asgi"},
                "swarm": {"users": 5, "requests_per_user": 4},
            }
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(scenario))
    out = tmp_path / "out"
    done = djload("run", folder, "--out", out)
    assert done.returncode == 0, done.stderr + done.stdout
    rows = json.loads((out / "summary.json").read_text())
    assert len(rows) == 6
    for row in rows:
        assert row["status"] == "completed" and row["total_errors"] == 0, row["scenario"]
        engine = row["scenario"].split("-")[0]
        database = row["database"]
        assert database["engine"] == {"sqlite": "sqlite", "postgres": "postgresql"}[engine]
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?", database["version"]), database
        assert database["pool"] == (engine == "postgres" and row["server_mode"] == "asgi")
        assert database["conn_max_age"] == 0
        if engine == "sqlite":
            assert (out / row["scenario"] / "db.sqlite3").exists()
    report = (out / "report.md").read_text()
    assert "## Real I/O: which server for which view" in report and "postgresql 15" in report
    # One PostgreSQL server for the whole run, booted once, stopped at the end.
    log = (out / "postgres.log").read_text()
    assert log.count("database system is ready to accept connections") == 1
    assert "database system is shut down" in log
    assert not _orphans()


def test_a_remote_database_url_is_refused_without_allow_remote(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    remote = "postgresql://someone:secret@192.0.2.1:5432/db"
    path = scenario_file(endpoint={"path": "/db/sync/"}, database={"engine": "postgres", "url": remote})
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert "192.0.2.1 is not a loopback address" in done.stderr and "secret" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_database_that_does_not_answer_is_a_boot_failure(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    path = scenario_file(endpoint={"path": "/db/sync/"},
                         database={"engine": "postgres", "url": "postgresql://djload@127.0.0.1:9/db"})  # fmt: skip
    done = djload("run", path, "--out", tmp_path / "out")
    assert done.returncode == 3, done.stderr
    assert "cannot connect" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT])
def test_ctrl_c_leaves_no_postgres_and_no_upstream(
    scenario_file: ScenarioFactory, tmp_path: Path, sig: signal.Signals
) -> None:
    before = _orphans()
    path = scenario_file(endpoint={"path": "/http/sync/"}, server={"mode": "asgi"}, sleep=1,
                         database={"engine": "postgres"}, swarm={"users": 5, "requests_per_user": 1000})  # fmt: skip
    db_path = scenario_file("db", endpoint={"path": "/db/sync/"}, database={"engine": "postgres"},
                            swarm={"users": 5, "requests_per_user": 1000})  # fmt: skip
    assert path.parent == db_path.parent
    run = Run(path.parent, "--out", tmp_path / "out", cwd=tmp_path)
    run.wait_for(lambda: run.running("locust"))
    run.descendants()
    assert any("djload-postgres-" in line for line in run.seen.values())  # postgres and the upstream are up
    assert any("djload.upstream_app" in line for line in run.seen.values())
    code, stderr, _ = run.finish(sig, ctrl_c=True)
    assert code == 130, stderr
    assert not run.survivors()
    assert _orphans() == before


@pytest.mark.parametrize("mode", ["granian-asgi", "wsgi-gevent"])
def test_serve_boots_the_database_and_the_upstream_its_endpoint_needs(
    mode: str, scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    with new_results():
        run = Run(scenario_file(server={"mode": mode}, endpoint={"path": "/http/sync/"}, sleep=0.1),
                  cwd=tmp_path, command="serve")  # fmt: skip
        assert run.process.stdout is not None
        line = run.process.stdout.readline()
        assert "serving http://127.0.0.1:" in line
        url = line.split("serving ", 1)[1].strip()
        with servers.NO_PROXY.open(url, timeout=30) as response:
            assert response.status == 200 and b"upstream waited 0.1 s" in response.read()
        run.descendants()
        assert any("djload.upstream_app" in seen for seen in run.seen.values())
        code, stderr, _ = run.finish(signal.SIGINT, ctrl_c=True)
    assert code == 130, stderr
    assert not run.survivors()
