"""The stack around a run's site: the database its database views use and the upstream its HTTP views call.

Booted before the first scenario that needs them and kept for the whole plan (one PostgreSQL server, its
tables seeded once; one upstream), so that no measurement pays for a boot and nothing boots while a
swarm is measured. A scenario's SQLite database is a copy of one seeded file, in its own results folder.
Everything is stopped when the plan ends, on failure and on Ctrl-C (the children are tracked like every
other; ``processes.stop_all`` is the last line of defence).
"""

import contextlib
import shutil
import subprocess
from pathlib import Path
from types import TracebackType

from djload import database, servers, upstream
from djload.database import Database, DatabaseInfo
from djload.scenario import Database as DatabaseConfig
from djload.scenario import Scenario
from djload.sites import Site
from djload.upstream import RunningUpstream

SQLITE_FILE = "db.sqlite3"


def needs_database(scenario: Scenario) -> bool:
    view = scenario.site.view(scenario.endpoint.path)
    return view is not None and view.needs_database


def needs_upstream(scenario: Scenario) -> bool:
    view = scenario.site.view(scenario.endpoint.path)
    return view is not None and view.needs_upstream


def check_stack(scenarios: list[Scenario], allow_remote: bool = False) -> None:
    """Before anything starts: a database URL passes the loopback gate, and a PostgreSQL to boot is installed.

    servers.TargetError or database.PostgresMissing: both are bad input, found before a results folder exists.
    """
    for scenario in scenarios:
        config = scenario.database
        if config.engine != "postgres" or not needs_database(scenario):
            continue
        if config.url:
            servers.check_target(config.url, allow_remote, schemes=database.SCHEMES)
        else:
            database.find_binaries()


class Stack:
    """The database servers and the upstream of a plan; a context manager that stops them all."""

    def __init__(self, folder: Path, allow_remote: bool = False) -> None:
        self.folder = folder  # logs of the stack's processes, and the seeded SQLite file
        self.allow_remote = allow_remote
        self._exit = contextlib.ExitStack()
        self._booted: Database | None = None  # the PostgreSQL server booted for this plan
        self._given: dict[str, Database] = {}  # url → an existing server, prepared
        self._sqlite_seeded: Path | None = None
        self._upstream: RunningUpstream | None = None

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._exit.close()
        self._booted, self._upstream = None, None

    def open(self, scenarios: list[Scenario], everything: bool = False) -> "Stack":
        """Boot and prepare what the scenarios need (everything: whatever any of the site's views needs,
        for a server whose endpoint is picked later, as in the web UI)."""
        try:
            for scenario in scenarios:
                if everything or needs_database(scenario):
                    self._server_of(scenario.database, scenario.site)
                if (everything or needs_upstream(scenario)) and self._upstream is None:
                    self._upstream = self._exit.enter_context(upstream.running(self.folder))
        except BaseException:
            self.close()  # what did boot is stopped (and a PostgreSQL folder removed) before the error goes on
            raise
        return self

    def _server_of(self, config: DatabaseConfig, site: Site) -> Database:
        """The prepared database for a configuration: booted or given PostgreSQL, or the seeded SQLite file."""
        if config.engine == "sqlite":
            if self._sqlite_seeded is None:
                seeded = self.folder / f"seeded-{SQLITE_FILE}"
                database.prepare(database.sqlite(seeded), site.folder, site.settings, self.folder / "database.log")
                self._sqlite_seeded = seeded
            return database.sqlite(self._sqlite_seeded, config.conn_max_age)
        if config.url:
            if config.url not in self._given:
                servers.check_target(config.url, self.allow_remote, schemes=database.SCHEMES)
                given = database.given(config.url)
                database.prepare(given, site.folder, site.settings, self.folder / "database.log")
                self._given[config.url] = given
            return self._given[config.url]
        if self._booted is None:
            booted = self._exit.enter_context(database.postgres(self.folder / "postgres.log"))
            database.prepare(booted, site.folder, site.settings, self.folder / "database.log")
            self._booted = booted
        return self._booted

    def environment(self, scenario: Scenario, out_dir: Path, everything: bool = False) -> dict[str, str]:
        """What the scenario's server needs in its environment to reach the stack; out_dir gets its SQLite copy."""
        env: dict[str, str] = {}
        if self._upstream and (everything or needs_upstream(scenario)):
            env["DJLOAD_UPSTREAM_URL"] = self._upstream.url
        if everything or needs_database(scenario):
            config = scenario.database
            prepared = self._server_of(config, scenario.site)
            if config.engine == "sqlite":
                # A copy per run: the writes of one run do not change the next one's file.
                copy = out_dir / SQLITE_FILE
                shutil.copyfile(prepared.url.removeprefix("sqlite:///"), copy)
                prepared = database.sqlite(copy, config.conn_max_age)
            env.update(Database(prepared.url, self.info(scenario)).environment())
        return env

    def dependencies(self, scenario: Scenario) -> dict[str, subprocess.Popen[bytes]]:
        """The processes of the stack the scenario's site relies on, by the name a failure gives them."""
        found = {}
        config = scenario.database
        booted = self._booted if config.engine == "postgres" and not config.url else None
        if needs_database(scenario) and booted and booted.process:
            found["PostgreSQL"] = booted.process
        if needs_upstream(scenario) and self._upstream:
            found["the upstream"] = self._upstream.process
        return found

    def info(self, scenario: Scenario) -> DatabaseInfo:
        """What the summary row says about the scenario's database; the version is the server's own."""
        config = scenario.database
        if config.engine == "sqlite":
            return database.sqlite(Path(SQLITE_FILE), config.conn_max_age).info
        server = self._given.get(config.url or "") if config.url else self._booted
        version = server.info.version if server else None
        return DatabaseInfo("postgresql", version, config.pool, config.conn_max_age)
