"""What a user's Django project says about its URLs, asked in a subprocess before anything boots.

djload never imports a user's project in its own process (its settings, apps and import side effects
are the project's business, and a broken project must not take djload down): ``inspect`` runs
djload/urlprobe.py with the project's folder as the working directory and DJANGO_SETTINGS_MODULE set,
as its server will run, and reads back which view each path resolves to, whether that view is async,
and every URL pattern of the project (for did-you-mean and for ``djload init``).
"""

import difflib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from djload import processes
from djload.djangofacts import DjangoFacts

PROBE_TIMEOUT_S = 60.0


class ProjectError(Exception):
    """The project did not import (bad settings, a missing package, an error in its URLconf or views);
    the message is the error's last line."""


@dataclass(frozen=True)
class Route:
    """One URL pattern of the project, as a person writes it: "/items/<int:pk>/"."""

    route: str
    parameters: bool  # takes parts from the URL (converters, regex groups): not a path to send as it is
    view: str  # the view's dotted name
    is_async: bool
    namespace: str = ""  # the include's namespace, "admin" for Django's admin
    name: str = ""


@dataclass(frozen=True)
class View:
    """What a path resolved to."""

    view: str
    is_async: bool


@dataclass(frozen=True)
class Project:
    routes: tuple[Route, ...]
    resolved: dict[str, View | None]  # each path asked about → its view, None when it does not resolve
    facts: DjangoFacts = DjangoFacts()  # its middleware's and databases' settings (djload.diagnosis)

    def plain_routes(self) -> list[str]:
        """The routes that take no parameters, outside Django's admin: paths to send as they are."""
        return [
            route.route for route in self.routes if not route.parameters and route.namespace.split(":")[0] != "admin"
        ]

    def did_you_mean(self, path: str) -> str | None:
        """The project's route closest to path, when one is close."""
        close = difflib.get_close_matches(path.split("?", 1)[0], [route.route for route in self.routes], n=1)
        return close[0] if close else None


def environment(settings: str, extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment the project is imported in: djload's, the scenario's extra, its settings module.

    A project that reads DJANGO_SECRET_KEY gets one, as its server does.
    """
    env = dict(os.environ)
    env.update(extra)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    return env


def inspect(
    folder: Path,
    settings: str,
    paths: Sequence[str] = (),
    env: Mapping[str, str] = {},
    timeout_s: float = PROBE_TIMEOUT_S,
) -> Project:
    """Import the project in a subprocess, resolve each path, list its routes. ProjectError if it does not import."""
    if not folder.is_dir():
        raise ProjectError(f"{folder}: no such folder")
    with tempfile.TemporaryDirectory(prefix="djload-probe-") as scratch:
        out, log = Path(scratch) / "probe.json", Path(scratch) / "probe.log"
        argv = [sys.executable, "-m", "djload.urlprobe", str(out), *paths]
        process = processes.start(argv, log, cwd=folder, env=environment(settings, env))
        try:
            deadline = time.monotonic() + timeout_s
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            timed_out = process.poll() is None
        finally:
            processes.stop(process)
        if timed_out:
            raise ProjectError(f"importing the project took more than {timeout_s:g} s")
        if process.returncode != 0 or not out.is_file():
            # Died before it could write (os._exit, a crash in C): the last line it printed says why.
            lines = log.read_text(errors="replace").strip().splitlines()
            raise ProjectError(
                lines[-1] if lines else f"importing the project {processes.describe_exit(process.returncode)}"
            )
        result = json.loads(out.read_text(encoding="utf-8"))
    if "error" in result:
        raise ProjectError(str(result["error"]))
    return Project(
        routes=tuple(
            Route(item["route"], item["parameters"], item["view"], item["async"], item["namespace"], item["name"])
            for item in result["routes"]
        ),
        resolved={
            path: View(found["view"], found["async"]) if found else None for path, found in result["resolved"].items()
        },
        facts=DjangoFacts.from_probe(result),
    )
