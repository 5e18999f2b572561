"""The database a run's site uses: a SQLite file, a PostgreSQL server booted for the run, or one given.

A booted PostgreSQL comes from the machine's installation (Debian: package ``postgresql``, binaries in
``/usr/lib/postgresql/<version>/bin``): ``initdb`` into a temporary folder, then the server with its
socket in that folder, so that nothing is left behind. ``initdb`` refuses to run as root, so as root both
run as the package's ``postgres`` user (``runuser``), on a folder that user owns; otherwise as the
current user.

Private: the server listens on no TCP address, only on its Unix socket, and the socket's folder is
``0700`` (``mkdtemp``): only its owner (and root) can enter it, so another local account cannot even
reach the server. The folder is the check, as ``peer`` authentication would be: ``pg_hba`` trusts the
socket and asks SCRAM on any host line. A password check on the socket would add SCRAM's CPU to every
connection the site opens (with ``conn_max_age: 0``, one per request) and be measured as the views' time.
The site connects as ``djload``, a role with LOGIN that owns its database and nothing more (no
SUPERUSER: no ``COPY ... TO PROGRAM``, no reading the server's files); the superuser ``djload_admin``
only creates that role and database.

The server runs as ``postgres`` in the foreground, in its own process group like every other child,
not through ``pg_ctl start``: pg_ctl detaches the server into a session of its own (setsid), where
neither stopping the group nor djload's last-line ``stop_all`` would reach it. Stopping the group sends
SIGINT, which is PostgreSQL's fast shutdown (what ``pg_ctl stop -m fast`` sends).
"""

import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from djload import processes
from djload.servers import HOST, BootError, free_port, masked

SCHEMES = ("postgres", "postgresql")  # of a database.url
PACKAGE = "postgresql"  # the Debian package that holds the server
INSTALL_ROOT = Path("/usr/lib/postgresql")
OWNER = "postgres"  # the package's system user, which owns a booted server's files when djload is root
ADMIN = "djload_admin"  # the booted server's superuser: creates the site's role and database, nothing else
USER = "djload"  # the role the site connects as: LOGIN and its database's owner, no superuser
NAME = "djload"  # the database the site uses
READY_TIMEOUT_S = 60.0
SETUP_TIMEOUT_S = 120.0
# A swarm of 100 users under a thread-per-request mode opens a connection per request in flight; the
# default of 100 would refuse some of them and turn a measurement into errors.
MAX_CONNECTIONS = 500


class DatabaseError(BootError):
    """The database could not be set up or did not start (the stack did not boot); the message ends with the
    log's last lines."""


class PostgresMissing(DatabaseError):
    """No PostgreSQL installation on this machine: bad input for a scenario that asks for one."""


@dataclass(frozen=True)
class DatabaseInfo:
    """What a summary row says about the database: its engine, the version the server reported, the options."""

    engine: str  # "postgresql" or "sqlite"
    version: str | None  # None: the run did not reach the server (its views use no database)
    pool: bool = False
    conn_max_age: int = 0

    def as_summary(self) -> dict[str, Any]:
        return {"engine": self.engine, "version": self.version, "pool": self.pool, "conn_max_age": self.conn_max_age}


@dataclass(frozen=True)
class Database:
    """Where the site finds its database, and what the run reports about it."""

    url: str  # sqlite:////abs/path, postgresql://user@host:port/name, or a booted one's socket_url()
    info: DatabaseInfo
    # A booted server's process: a run watches it (djload.deaths) and names its death.
    process: "subprocess.Popen[bytes] | None" = field(default=None, compare=False, repr=False)

    def environment(self) -> dict[str, str]:
        """The variables the site's settings read (site/django_adjango/settings.py)."""
        return {
            "DJLOAD_DATABASE_URL": self.url,
            "DJLOAD_DATABASE_POOL": "1" if self.info.pool else "0",
            "DJLOAD_CONN_MAX_AGE": str(self.info.conn_max_age),
        }


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_binaries(install_root: Path = INSTALL_ROOT) -> Path:
    """The newest installed PostgreSQL's bin folder; PostgresMissing names the package when there is none."""
    found = [path for path in install_root.glob("*/bin") if (path / "initdb").exists() and (path / "postgres").exists()]
    if not found:
        raise PostgresMissing(
            f"PostgreSQL is not installed ({install_root}/<version>/bin/initdb not found): install the Debian "
            f"package '{PACKAGE}' (scripts/setup does), or give database.url of an existing server"
        )
    return max(found, key=_version_key)


def version_text(server_version: int) -> str:
    """libpq's integer server version (150018) as PostgreSQL writes it ("15.18")."""
    return f"{server_version // 10000}.{server_version % 10000}"


def server_version(url: str) -> str:
    with psycopg.connect(url, connect_timeout=5) as connection:
        return version_text(connection.info.server_version)


def sqlite(path: Path, conn_max_age: int = 0) -> Database:
    """A SQLite file (created by the migrations); its version is the sqlite3 library's the site links."""
    return Database(f"sqlite:///{path.resolve()}", DatabaseInfo("sqlite", sqlite3.sqlite_version, False, conn_max_age))


def given(url: str, pool: bool = False, conn_max_age: int = 0) -> Database:
    """An existing PostgreSQL server; its version is read from it (DatabaseError when it does not answer)."""
    try:
        version = server_version(url)
    except psycopg.Error as exc:
        raise DatabaseError(f"{masked(url)}: cannot connect: {str(exc).strip()}") from None
    return Database(url, DatabaseInfo("postgresql", version, pool, conn_max_age))


@dataclass
class RunningPostgres:
    process: subprocess.Popen[bytes]
    argv: list[str]
    folder: Path  # the temporary folder: data directory and socket, removed after the stop
    log: Path
    url: str = ""
    version: str = ""


def socket_url(user: str, folder: Path, port: int, name: str) -> str:
    """A libpq URL of a server's Unix socket in folder (libpq's host= and port= query parameters)."""
    query = urllib.parse.urlencode({"host": str(folder), "port": port})
    return f"postgresql://{user}@/{name}?{query}"


def _owned(argv: list[str]) -> list[str]:
    """argv as the user that owns the server's files: the package's user when djload is root."""
    return ["runuser", "-u", OWNER, "--", *argv] if os.geteuid() == 0 else argv


def _make_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="djload-postgres-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(OWNER)
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresMissing(
                f"the user '{OWNER}' does not exist: install the Debian package '{PACKAGE}', which creates it"
            ) from None
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    return folder


def _environment() -> dict[str, str]:
    # The C locale: initdb needs no locale of the machine's, and sorting does not vary between machines.
    return {**os.environ, "LC_ALL": "C", "LANG": "C"}


def _run_to_end(argv: list[str], log: Path, cwd: Path, what: str, env: dict[str, str]) -> None:
    """Run a setup step as a tracked child (Ctrl-C stops it like any other); DatabaseError when it fails."""
    process = processes.start(argv, log, cwd=cwd, env=env, append=True)
    try:
        returncode = process.wait(timeout=SETUP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DatabaseError(f"{what} did not finish within {SETUP_TIMEOUT_S:g} s\n{processes.tail(log)}") from None
    finally:
        processes.stop(process)
    if returncode != 0:
        raise DatabaseError(f"{what} {processes.describe_exit(returncode)}\n{processes.tail(log)}")


def start_postgres(log: Path) -> RunningPostgres:
    """initdb into a new temporary folder and start the server there, without waiting for it."""
    binaries = find_binaries()
    folder = _make_folder()
    try:
        data = folder / "data"
        # Trust on the socket only: its 0700 folder is the check (see the module's docstring). Any TCP
        # line asks SCRAM, though the server listens on no TCP address at all.
        initdb = [
            str(binaries / "initdb"), "-D", str(data), "-U", ADMIN, "--auth-local=trust",
            "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        ]  # fmt: skip
        _run_to_end(_owned(initdb), log, folder, "initdb", _environment())
        # The socket's name holds the port: a free one, so that two servers never share a name.
        port = free_port(HOST)
        argv = _owned([
            str(binaries / "postgres"), "-D", str(data),
            "-c", "listen_addresses=", "-p", str(port), "-k", str(folder), "-c", "unix_socket_permissions=0700",
            "-c", f"max_connections={MAX_CONNECTIONS}",
        ])  # fmt: skip
        process = processes.start(argv, log, cwd=folder, env=_environment(), append=True)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return RunningPostgres(process, argv, folder, log, url=socket_url(USER, folder, port, NAME))


def wait_ready(server: RunningPostgres, timeout_s: float = READY_TIMEOUT_S) -> str:
    """Wait until the server accepts connections, create the site's role and database; returns its version."""
    began = time.monotonic()
    port = int(urllib.parse.parse_qs(urllib.parse.urlsplit(server.url).query)["port"][0])
    maintenance = socket_url(ADMIN, server.folder, port, "postgres")
    while True:
        if server.process.poll() is not None:
            ended = processes.describe_exit(server.process.returncode)
            raise DatabaseError(f"PostgreSQL {ended} before accepting connections\n{processes.tail(server.log)}")
        try:
            with psycopg.connect(maintenance, connect_timeout=2, autocommit=True) as connection:
                connection.execute(f"CREATE ROLE {USER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
                connection.execute(f"CREATE DATABASE {NAME} OWNER {USER}")
                server.version = version_text(connection.info.server_version)
                return server.version
        except psycopg.OperationalError:
            pass  # not accepting connections yet (starting up, or not listening yet)
        if time.monotonic() - began > timeout_s:
            raise DatabaseError(
                f"PostgreSQL did not accept connections within {timeout_s:g} s\n{processes.tail(server.log)}"
            )
        time.sleep(0.05)


def stop_postgres(server: RunningPostgres) -> None:
    """Fast shutdown (SIGINT to its group, SIGKILL if it lingers), then remove its folder."""
    try:
        processes.stop(server.process, timeout_s=15.0)
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


@contextmanager
def postgres(log: Path, pool: bool = False, conn_max_age: int = 0) -> Iterator[Database]:
    """A PostgreSQL server for the duration of the block; always stopped and removed afterwards."""
    server = start_postgres(log)
    try:
        version = wait_ready(server)
        yield Database(server.url, DatabaseInfo("postgresql", version, pool, conn_max_age), server.process)
    finally:
        stop_postgres(server)


def prepare(database: Database, site_dir: Path, settings: str, log: Path, env: dict[str, str] | None = None) -> None:
    """Create the site's tables (its migrations) and seed them, before its server boots.

    Run as Django's own commands in a child process with the settings the server will have, so the
    orchestrator imports neither Django nor the site.
    """
    environment = {**(env or os.environ), **database.environment(), "DJANGO_SETTINGS_MODULE": settings}
    for step in (["migrate", "--noinput"], ["seed"]):
        what = f"django-admin {step[0]} ({masked(database.url)})"
        _run_to_end([sys.executable, "-m", "django", *step], log, site_dir, what, environment)
