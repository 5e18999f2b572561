"""`djload init`: a starter scenario for a user's Django project, from the project's own URL patterns.

The project is imported in a subprocess (djload.project). The file gets a `site:` block, a `requests:`
mix of the routes that take no parameters (GET, weight 1 each), and a matrix over the server modes worth
comparing, with comments that say what to edit. An existing file is never overwritten.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from djload import layout, project

# WSGI's sync workers (the talk's), the same with threads (what many deployments run), and ASGI.
MODES = ("wsgi", "wsgi-gthread", "asgi")
USERS = 10
ROUNDS = 3  # each user goes this many times round the mix


class StarterError(Exception):
    """The file exists already, or cannot be written."""


@dataclass(frozen=True)
class Written:
    path: Path
    routes: list[str]
    skipped: list[str]  # routes with parameters, left as comments


def default_out(folder: Path) -> Path:
    return Path("scenarios") / f"{_name(folder)}.yaml"


def _name(folder: Path) -> str:
    """The project folder's name as a scenario name (layout.name_problem): plain, short, starting with a letter
    or digit; also the starter file's name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name)[:100].strip("-._") or "project"
    return name if layout.name_problem(name) is None else "project"


def _quoted(text: str) -> str:
    """A YAML scalar that stays the string it is (paths and names may hold ': ' or '#')."""
    return text if re.fullmatch(r"[A-Za-z0-9_./<>:-]+", text) and not text.endswith(":") else repr(text)


def text(folder: Path, settings: str, out: Path, found: project.Project) -> tuple[str, list[str], list[str]]:
    """The scenario file's text, the routes it sends to, and the routes with parameters it leaves as comments."""
    routes = found.plain_routes()
    views = {route.route: route for route in found.routes}
    skipped = [route.route for route in found.routes if route.parameters and route.namespace.split(":")[0] != "admin"]
    relative = os.path.relpath(folder.resolve(), out.resolve().parent)
    package = settings.rsplit(".", 1)[0] + "." if "." in settings else ""
    lines = [
        f"# A starter scenario for the Django project in {folder.resolve()}, written by `djload init`.",
        "# Edit what the comments say, then run it:",
        f"#   djload run {out}",
        f"name: {_name(folder)}",
        "site:",
        f"  path: {_quoted(relative)}  # the folder that holds manage.py, relative to this file",
        f"  settings: {_quoted(settings)}",
        f"  # wsgi: {package}wsgi:application  # the defaults; name yours if they live elsewhere",
        f"  # asgi: {package}asgi:application",
        "  ready: /  # polled until the site answers (any status below 500)",
        "  # setup:  # commands run in `path` before each boot; `python` is the interpreter djload runs in",
        "  #   - python manage.py migrate --noinput",
        "  # env: {DATABASE_URL: ...}  # extra environment for setup and the server: point it at a test database",
        "server: {mode: wsgi, workers: 1, threads: 4}  # workers: as many as your deployment runs per machine",
        f"swarm: {{users: {USERS}, requests_per_user: {ROUNDS * max(1, len(routes))}}}  "
        "# a multiple of the weights' sum: exact per-entry counts",
        "# The routes that take no parameters, as GET requests of weight 1. Give each the weight it has in your",
        "# traffic; for a POST write `method: POST` and `json: {...}` (or `body:` and `headers:`), and the `status:`",
        "# that counts as success (otherwise any 2xx or 3xx). Remove what must not be loaded (e.g. a logout).",
        "requests:",
    ]
    for route in routes:
        view = views[route]
        kind = "async" if view.is_async else "sync"
        lines.append(f"  - path: {_quoted(route)}  # {view.view} ({kind})")
        lines.append("    weight: 1")
    if not routes:
        lines.append("  - path: /  # the project has no route without parameters: write a real path here")
    if skipped:
        lines.append("  # Routes with parameters: put a real value in, then uncomment.")
        for route in skipped:
            lines.append(f"  # - path: {route}  # {views[route].view}")
    lines += [
        "matrix:",
        f"  server.mode: [{', '.join(MODES)}]  # also: asgi-native (gunicorn's own asgi worker), uvicorn",
    ]
    return "\n".join(lines) + "\n", routes, skipped


def write(folder: Path, settings: str, out: Path | None = None) -> Written:
    """Import the project (ProjectError if it does not), then write the starter file (StarterError if it exists)."""
    out = out or default_out(folder)
    if out.exists():
        raise StarterError(f"{out}: exists already; djload init never overwrites a file (give --out)")
    found = project.inspect(folder, settings)
    content, routes, skipped = text(folder, settings, out, found)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("x", encoding="utf-8") as file:
            file.write(content)
    except FileExistsError:
        raise StarterError(f"{out}: exists already; djload init never overwrites a file (give --out)") from None
    except OSError as exc:
        raise StarterError(f"{out}: cannot write: {exc.strerror}") from None
    return Written(out, routes, skipped)
