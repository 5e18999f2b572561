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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    detail: str = ""  # a DetailView's model and its URL keyword for the primary key: "store.Item pk"


@dataclass(frozen=True)
class View:
    """What a path resolved to."""

    view: str
    is_async: bool


@dataclass(frozen=True)
class Answer:
    """What a route answered to one anonymous GET."""

    status: int  # 0: the request broke Django's test client
    login: bool  # a redirect to the project's LOGIN_URL


@dataclass(frozen=True)
class Project:
    routes: tuple[Route, ...]
    resolved: dict[str, View | None]  # each path asked about → its view, None when it does not resolve
    models: tuple[str, ...] = ()  # every installed model, as app_label.Model (what `values: {model: …}` names)
    # Asked (djload init): each parameter-free route's answer to one anonymous GET, and the project's LOGIN_URL.
    answers: dict[str, Answer] = field(default_factory=dict)
    login_url: str = ""
    # LOGIN_URL as a path, SESSION_COOKIE_NAME and CSRF_COOKIE_NAME: what a signed-in client needs.
    auth: dict[str, str] = field(default_factory=dict)
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


def _bare(path: str) -> str:
    return path.split("?", 1)[0]


def inspect(
    folder: Path,
    settings: str,
    paths: Sequence[str] = (),
    env: Mapping[str, str] = {},
    timeout_s: float = PROBE_TIMEOUT_S,
    ask: bool = False,
) -> Project:
    """Import the project in a subprocess, resolve each path, list its routes (ask: and GET each parameter-free
    one once, anonymously). ProjectError if it does not import."""
    # Paths without their query strings: the resolver reads none, and a query's token is no command line's
    # to show (`ps` shows every user the command lines).
    bare = list(dict.fromkeys(_bare(path) for path in paths))
    result = _probe("djload.urlprobe", ["--ask"] * ask + bare, folder, settings, env, timeout_s)
    return Project(
        routes=tuple(
            Route(
                item["route"],
                item["parameters"],
                item["view"],
                item["async"],
                item["namespace"],
                item["name"],
                item.get("detail", ""),
            )  # fmt: skip
            for item in result["routes"]
        ),
        resolved={
            path: View(found["view"], found["async"]) if (found := result["resolved"].get(_bare(path))) else None
            for path in paths
        },
        models=tuple(result.get("models", ())),
        answers={route: Answer(found["status"], found["login"]) for route, found in result.get("answers", {}).items()},
        login_url=result.get("login_url", ""),
        auth=dict(result.get("auth") or {}),
        facts=DjangoFacts.from_probe(result),
    )


def _probe(
    module: str, args: list[str], folder: Path, settings: str, env: Mapping[str, str], timeout_s: float
) -> dict[str, Any]:
    """Run `python -m module OUT ARGS...` in the project's folder and environment; its JSON answer.
    ProjectError with the probe's own error, or the last line it printed if it died before answering."""
    if not folder.is_dir():
        raise ProjectError(f"{folder}: no such folder")
    with tempfile.TemporaryDirectory(prefix="djload-probe-") as scratch:
        out, log = Path(scratch) / "probe.json", Path(scratch) / "probe.log"
        argv = [sys.executable, "-m", module, str(out), *args]
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
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if "error" in result:
        raise ProjectError(str(result["error"]))
    return result


def keys(
    folder: Path,
    settings: str,
    models: Sequence[str],
    env: Mapping[str, str] = {},
    limit: int = 10_000,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> dict[str, list[str]]:
    """Each model's primary keys in the project's database, in order, at most limit each (djload.keyprobe).
    ProjectError if the project does not import, a model is not there, or it has no rows."""
    result = _probe("djload.keyprobe", [str(limit), *models], folder, settings, env, timeout_s)
    found: dict[str, list[str]] = result["keys"]
    for model in models:
        if not found.get(model):
            raise ProjectError(f"{model} has no rows in the project's database (after its setup): its detail "
                               "paths need at least one; create some in site.setup (a fixture, a command)")  # fmt: skip
    return found
