"""`djload init`: a starter scenario for a user's Django project, from the project's own URL patterns.

The project is imported in a subprocess (djload.project), which also GETs each parameter-free route once,
anonymously. The file gets a `site:` block, a `requests:` mix of the routes that take no parameters (GET,
weight 1 each) and answered that GET, its DetailViews' routes with their model's primary keys as values,
and a matrix over the server modes worth comparing, with comments that say what to edit and what was left
out (a POST-only route; a route behind the login, under a commented `login:` block). An existing file is
never overwritten.
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


# A route's one primary-key parameter, as a Django route writes it: "<int:pk>" or "<pk>".
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _detail(route: project.Route) -> tuple[str, str] | None:
    """A DetailView's route with its key as a placeholder, and the model: ("/items/{pk}/page/", "store.Item")."""
    model, _, keyword = route.detail.partition(" ")
    if not model or PARAMETER.findall(route.route) != [keyword] or "(" in route.route:
        return None
    return PARAMETER.sub("{" + keyword + "}", route.route), model


def text(folder: Path, settings: str, out: Path, found: project.Project) -> tuple[str, list[str], list[str]]:
    """The scenario file's text, the routes it sends to, and the routes with parameters it leaves as comments.

    When the project was asked (found.answers), a route that answered 405 to GET is left out with a comment
    saying why, a route behind the login (a redirect to LOGIN_URL, or 401/403) becomes a comment under a
    commented `login:` block, and a DetailView's route takes its model's primary keys as values."""
    views = {route.route: route for route in found.routes}
    plain = found.plain_routes()
    answers = found.answers
    not_get = [route for route in plain if answers.get(route) and answers[route].status == 405]
    behind_login = [route for route in plain if (a := answers.get(route)) and (a.login or a.status in (401, 403))]
    routes = [route for route in plain if route not in not_get and route not in behind_login]
    details = {
        route.route: detail
        for route in found.routes
        if route.namespace.split(":")[0] != "admin" and (detail := _detail(route))
    }
    skipped = [
        route.route
        for route in found.routes
        if route.parameters and route.namespace.split(":")[0] != "admin" and route.route not in details
    ]
    relative = os.path.relpath(folder.resolve(), out.resolve().parent)
    package = settings.rsplit(".", 1)[0] + "." if "." in settings else ""
    entries = len(routes) + len(details)
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
        f"swarm: {{users: {USERS}, requests_per_user: {ROUNDS * max(1, entries)}}}  "
        "# a multiple of the weights' sum: exact per-entry counts",
    ]
    if behind_login:
        lines += [
            "# Routes behind the login (they sent an anonymous GET to LOGIN_URL, or answered 401/403) are comments",
            "# under `requests:`. To load them, give an account here, uncomment this block and those entries:",
            "# login:",
            f"#   path: {_quoted(found.login_url or '/accounts/login/')}  # the project's LOGIN_URL",
            "#   username: alice",
            "#   password_env: DJLOAD_PASSWORD  # read from the environment: never written in a file",
        ]
    lines += [
        "# The routes that take no parameters, as GET requests of weight 1. Give each the weight it has in your",
        "# traffic; for a POST write `method: POST` and `json: {...}` (or `body:` and `headers:`), and the `status:`",
        "# that counts as success (otherwise any 2xx or 3xx). Remove what must not be loaded (e.g. a logout).",
        "requests:",
    ]
    for route in routes:
        view = views[route]
        kind = "async" if view.is_async else "sync"
        status = answers[route].status if route in answers else None
        said = f", answered {status}" if status is not None and not 200 <= status < 400 else ""
        lines.append(f"  - path: {_quoted(route)}  # {view.view} ({kind}){said}")
        lines.append("    weight: 1")
    for route, (path, model) in details.items():
        view = views[route]
        kind = "async" if view.is_async else "sync"
        keyword = PARAMETER.findall(route)[0]
        lines.append(f"  - path: {_quoted(path)}  # {view.view} ({kind}): a DetailView of {model}")
        lines.append(f"    values: {{{keyword}: {{model: {model}}}}}  # its primary keys, read after setup")
        lines.append("    weight: 1")
    if not routes and not details:
        lines.append("  - path: /  # the project has no route without parameters: write a real path here")
    if behind_login:
        lines.append("  # Behind the login: uncomment with the `login:` block above.")
        for route in behind_login:
            lines.append(f"  # - path: {route}  # {views[route].view}")
    for route in not_get:
        lines.append(f"  # {route}: left out, it answered 405 to GET ({views[route].view} takes another method)")
    if skipped:
        lines.append("  # Routes with parameters: put a real value in, then uncomment.")
        for route in skipped:
            lines.append(f"  # - path: {route}  # {views[route].view}")
    lines += [
        "matrix:",
        f"  server.mode: [{', '.join(MODES)}]  # also: asgi-native (gunicorn's own asgi worker), uvicorn",
    ]
    return "\n".join(lines) + "\n", routes + [path for path, _ in details.values()], skipped


def write(folder: Path, settings: str, out: Path | None = None) -> Written:
    """Import the project (ProjectError if it does not), then write the starter file (StarterError if it exists)."""
    out = out or default_out(folder)
    if out.exists():
        raise StarterError(f"{out}: exists already; djload init never overwrites a file (give --out)")
    found = project.inspect(folder, settings, ask=True)
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
