"""A real PostgreSQL booted and stopped by djload; the site's database views on it and on SQLite."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg
import pytest

from djload import ROOT, database, processes, servers, upstream
from djload.database import Database
from djload.scenario import Endpoint, Scenario, Server, Swarm
from djload.sites import BUNDLED

DB_PATHS = ("/db/sync/", "/db/async/?queries=3", "/db/write/sync/", "/db/write/async/")


def _postgres_processes(folder: Path) -> list[psutil.Process]:
    """Processes of a server whose data folder lies in folder (they show it on their command line)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        with_folder = any(str(folder) in part for part in process.info["cmdline"] or [])
        if with_folder and process.status() != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


@contextmanager
def site(mode: str, db: Database, out: Path, upstream_url: str = "") -> Iterator[str]:
    """The bundled site under a server mode with the database's settings; yields its base URL."""
    scenario = Scenario("db", Server(mode), Endpoint("/db/sync/"), Swarm(1), sleep=0.2)
    port = servers.free_port()
    env = {**servers.environment(scenario), **db.environment(), "DJLOAD_UPSTREAM_URL": upstream_url}
    argv = servers.command(scenario, port, out / "access.log")
    log = out / f"server-{mode}.log"
    process = processes.start(argv, log, cwd=ROOT, env=env)
    running = servers.RunningServer(process, argv, servers.local_url(servers.HOST, port), log)
    try:
        servers.wait_ready(running)
        yield running.base_url
    finally:
        processes.stop(running.process)


def _get(url: str) -> tuple[int, bytes, float]:
    with servers.NO_PROXY.open(url, timeout=30) as response:
        return response.status, response.read(), float(response.headers["X-View-Ms"])


def _folder_of(url: str) -> Path:
    """The temporary folder of the booted server at url: the one holding its socket, .s.PGSQL.<port>."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    folder = Path(query["host"][0])
    assert folder.parent == Path(tempfile.gettempdir()) and (folder / f".s.PGSQL.{query['port'][0]}").exists()
    return folder


def test_postgres_boots_answers_reports_its_version_and_leaves_nothing(tmp_path: Path) -> None:
    with database.postgres(tmp_path / "postgres.log", pool=True, conn_max_age=0) as db:
        assert db.url.startswith("postgresql://djload@/djload?host=")  # its socket: no TCP address
        assert db.info.engine == "postgresql" and db.info.pool
        version = db.info.version or ""
        assert version.replace(".", "").isdigit() and int(version.split(".")[0]) >= 12
        with psycopg.connect(db.url) as connection:
            (shown,) = connection.execute("SHOW server_version").fetchone() or ("",)
            assert shown.startswith(version + " ") or shown == version
            (listen,) = connection.execute("SHOW listen_addresses").fetchone() or ("",)
            assert listen == ""
        folder = _folder_of(db.url)
        assert _postgres_processes(folder)
    assert not _postgres_processes(folder)
    assert not folder.exists()
    assert "database system is ready to accept connections" in (tmp_path / "postgres.log").read_text()


def test_another_os_user_is_refused_and_the_site_role_is_no_superuser(tmp_path: Path) -> None:
    """Another local account reaches neither the socket (its folder is 0700) nor a TCP port (there is
    none); djload's own role may use its database, not the server's programs or files."""
    if os.geteuid() != 0:
        pytest.skip("becoming another OS user (runuser -u nobody) needs root")
    psql = str(database.find_binaries() / "psql")
    with database.postgres(tmp_path / "postgres.log") as db:
        folder = _folder_of(db.url)
        port = urllib.parse.parse_qs(urllib.parse.urlsplit(db.url).query)["port"][0]
        assert folder.stat().st_mode & 0o777 == 0o700
        for user in (database.USER, database.ADMIN):
            for where in (["-h", str(folder)], ["-h", "127.0.0.1"], ["-h", "localhost"]):
                argv = ["runuser", "-u", "nobody", "--", psql, *where, "-p", port, "-U", user, "-d", "postgres",
                        "-w", "-c", "SELECT 1"]  # fmt: skip
                done = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/")
                assert done.returncode == 2, (where, done.stdout)
                refused = "Permission denied" in done.stderr or "Connection refused" in done.stderr
                assert refused and "No such file" not in done.stderr, (where, done.stderr)
        with psycopg.connect(db.url, autocommit=True) as connection:  # as the site connects: its own user
            role = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            (superuser,) = connection.execute(role).fetchone() or (True,)
            (owner,) = connection.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            ).fetchone() or ("",)
            assert (superuser, owner) == (False, database.USER)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute("COPY (SELECT 1) TO PROGRAM 'true'")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute("SELECT pg_read_file('postgresql.conf')")
        hba = (folder / "data" / "pg_hba.conf").read_text()
        rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
        assert all(rule[-1] == "scram-sha-256" for rule in rules if rule[0] == "host"), rules
        assert all(rule[-1] == "trust" for rule in rules if rule[0] == "local"), rules


def test_a_missing_installation_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(database.PostgresMissing, match="install the Debian package 'postgresql'"):
        database.find_binaries(tmp_path)


def test_database_views_on_postgres_under_wsgi_and_asgi(tmp_path: Path) -> None:
    with database.postgres(tmp_path / "postgres.log", conn_max_age=60) as db:
        database.prepare(db, BUNDLED.folder, BUNDLED.settings, tmp_path / "prepare.log")
        for mode in ("wsgi", "asgi"):
            with site(mode, db, tmp_path) as base:
                for path in DB_PATHS:
                    status, body, view_ms = _get(base + path)
                    assert status == 200 and view_ms > 0, (mode, path, body)
        with psycopg.connect(db.url) as connection:
            (items,) = connection.execute("SELECT count(*) FROM store_item").fetchone() or (0,)
            (entries,) = connection.execute("SELECT count(*) FROM store_entry").fetchone() or (0,)
    assert (items, entries) == (10_000, 4)


def test_database_views_on_sqlite(tmp_path: Path) -> None:
    db = database.sqlite(tmp_path / "db.sqlite3")
    database.prepare(db, BUNDLED.folder, BUNDLED.settings, tmp_path / "prepare.log")
    database.prepare(db, BUNDLED.folder, BUNDLED.settings, tmp_path / "prepare.log")  # again: a no-op
    assert "already there" in (tmp_path / "prepare.log").read_text()
    assert db.info.engine == "sqlite" and (db.info.version or "").count(".") == 2
    with site("wsgi", db, tmp_path) as base:
        for path in DB_PATHS:
            status, body, _ = _get(base + path)
            assert status == 200, (path, body)


def test_http_views_call_the_upstream(tmp_path: Path) -> None:
    db = database.sqlite(tmp_path / "db.sqlite3")
    with upstream.running(tmp_path) as up, site("asgi", db, tmp_path, up.url) as base:
        for path in ("/http/sync/", "/http/async/"):
            status, body, view_ms = _get(base + path)
            assert status == 200 and b"upstream waited 0.2 s" in body
            assert view_ms >= 200


def test_a_failed_setup_step_is_reported_with_its_log(tmp_path: Path) -> None:
    broken = Database("sqlite:////nonexistent-folder/db.sqlite3", database.DatabaseInfo("sqlite", "3"))
    with pytest.raises(database.DatabaseError, match="django-admin migrate .* exited with code 1"):
        database.prepare(broken, BUNDLED.folder, BUNDLED.settings, tmp_path / "prepare.log")


SCRIPT = """
import sys, time
from pathlib import Path
from djload import database, processes
processes.install_signal_handlers()
try:
    with database.postgres(Path(sys.argv[1])) as db:
        print(db.url, flush=True)
        time.sleep(60)
except processes.Interrupted:
    sys.exit(130)
finally:
    processes.stop_all()
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_postgres_and_removes_its_folder(tmp_path: Path, sig: signal.Signals) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "postgres.log")],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        url = child.stdout.readline()
        assert url.startswith("postgresql://")
        folder = _folder_of(url.strip())
        assert _postgres_processes(folder)
        os.killpg(child.pid, sig)  # the terminal's Ctrl-C reaches the whole foreground group
        assert child.wait(timeout=30) == 130
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    deadline = time.monotonic() + 5
    while _postgres_processes(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _postgres_processes(folder)
    assert not folder.exists()
