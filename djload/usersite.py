"""A scenario's own Django project and its weighted mix: the `site:` block, the `requests:` list, and the
check of every path against the project itself before anything boots.

```yaml
site: {path: ../shop, settings: shop.settings, setup: [python manage.py migrate --noinput], env: {SHOP_DB: x}}
requests:
  - {path: /items/, weight: 2}
  - {method: POST, path: /orders/, json: {item: 3, quantity: 2}, status: 201, weight: 3}
```
The project is imported only in a subprocess (djload.project); each path must resolve with Django's URL
resolver, and a view's async-ness is read from the view it resolves to.
"""

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from djload import masking, values
from djload.sites import Site, View, Work
from djload.values import Model, Placeholders
from djload.yamlcheck import Check, Checker, Map, between, one_of, shown, shown_text

SITE_KEYS = ("path", "settings", "wsgi", "asgi", "ready", "setup", "env")
REQUEST_KEYS = ("method", "path", "json", "body", "form", "headers", "status", "weight", "contains", "values")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")  # what Django's CsrfViewMiddleware checks
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_WEIGHT = 1000
MAX_ENTRIES = 100  # each user walks a cycle of sum(weights) picks, each over every entry
# The mix reaches locust whole, in a file (never its command line, which `ps` shows to every user); the bound
# keeps each user's copy small.
MAX_MIX_BYTES = 100_000
# What an HTTP client sends as it is: a header name is a token; a value and a path are visible ASCII (a
# value may hold spaces). Anything else each client treats its own way, or fails on, request by request.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
URL_PATH = re.compile(r"/[\x21-\x22\x24-\x7e]*")  # no space, no control character, no '#', ASCII
# A request line longer than this is refused by the servers (gunicorn's limit_request_line is 4094 bytes).
MAX_URL_PATH = 4000


@dataclass(frozen=True)
class Request:
    """One entry of a scenario's mix."""

    path: str  # may carry a query string
    method: str = "GET"
    weight: int = 1
    json: str | None = None  # the JSON body, as sent (Content-Type: application/json)
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    status: int | None = None  # the status that counts as success; None: any 2xx or 3xx
    form: tuple[tuple[str, str], ...] | None = None  # an application/x-www-form-urlencoded body
    contains: str | None = None  # text the response's body must hold, or the request is an error
    # The path's {placeholders} and their values (djload.values); a model's become its keys before the swarm.
    values: Placeholders = ()
    line: int = field(default=0, compare=False)  # where the scenario file says it
    where: str = field(default="", compare=False)  # and as which field: "requests[2].path"

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def shown(self) -> "Request":
        """The entry as djload writes it anywhere (digest, summary, report): its secrets masked."""
        return replace(
            self,
            path=masking.masked(self.path),
            json=masking.masked_json_text(self.json),
            body=masking.masked_json_text(self.body),
            headers=tuple(masking.masked_fields(dict(self.headers)).items()),
            form=tuple(masking.masked_fields(dict(self.form)).items()) if self.form is not None else None,
        )

    def as_json(self) -> dict[str, Any]:
        """What the locustfile sends for it (djload.swarm writes these for locust)."""
        return {
            "method": self.method,
            "path": self.path,
            "json": self.json,
            "body": self.body,
            "headers": dict(self.headers),
            "status": self.status,
            "weight": self.weight,
            "form": dict(self.form) if self.form is not None else None,
            "contains": self.contains,
            "name": masking.masked(self.label),  # how locust names it in its log: no secret of the path
            # Values as sent: a model's keys are read after the project's setup (djload.engine fills them).
            "values": {name: list(value) for name, value in self.values if not isinstance(value, Model)},
        }


def label(requests: Sequence[Request]) -> str:
    """A mix in a few words, "mix of 21 requests": its entries have their own lines in the per-request table,
    and one cell holding every entry made the table unreadable."""
    return f"mix of {len(requests)} requests"


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A Python module path, with an attribute for an application: what Django and the servers import. A value
# starting with '-' would be read as an option of the server's command line.
MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
APPLICATION = re.compile(MODULE.pattern + r"(:[A-Za-z_][A-Za-z0-9_]*)?")


def _python_path(pattern: re.Pattern[str], what: str) -> Check:
    def check(value: str) -> str | None:
        return None if pattern.fullmatch(value) else f"must be {what}, got {shown(value)}"

    return check


def _strings(checker: Checker, mapping: Map, key: str, where: str, http: bool = False) -> dict[str, str]:
    """A mapping of names to plain values (an environment, headers), values as text; http: HTTP headers."""
    value = checker.get(mapping, key, dict, where, default={})
    found: dict[str, str] = {}
    for name, item in (value or {}).items():
        text = _text(item)
        line, field_name = value.key_lines[name], f"{where}{key}.{shown_text(str(name))}"
        if text is None:
            checker.problem(line, field_name, f"must be a string or a number, got {shown(item)}")
        elif http and not (isinstance(name, str) and HEADER_NAME.fullmatch(name)):
            checker.problem(line, field_name, "a header name is letters, digits and !#$%&'*+-.^_`|~ only")
        elif http and not HEADER_VALUE.fullmatch(text):
            value_shown = masking.MASK if masking.is_secret_name(str(name)) else shown(text)
            checker.problem(line, field_name, f"a header value is visible ASCII and spaces only, got {value_shown}")
        elif not http and not (isinstance(name, str) and ENV_NAME.fullmatch(name)):
            checker.problem(line, field_name, "an environment variable's name is letters, digits and '_'")
        elif "\0" in text:
            checker.problem(line, field_name, "must not hold a NUL character")
        else:
            found[str(name)] = text
    return found


def starts_with_slash(value: Any) -> str | None:
    if not value.startswith("/"):
        return f"must be a URL path starting with '/', got {shown(value)}"
    if len(value) > MAX_URL_PATH:
        return f"{len(value):,} characters with its query; servers take at most {MAX_URL_PATH:,}"
    if not URL_PATH.fullmatch(value):
        return f"must be visible ASCII without spaces or '#' (percent-encode the rest), got {shown(value)}"
    return None


def parse_site(checker: Checker, data: Map, source: str) -> Site | None:
    """The project a `site:` block names, its folder relative to the scenario file; None after a problem."""
    section = checker.mapping(data["site"], data.key_lines["site"], "site")
    if section is None:
        return None
    problems = len(checker.problems)
    checker.known_keys(section, SITE_KEYS, "site.")
    raw_path = checker.get(section, "path", str, "site.")
    settings = checker.get(
        section, "settings", str, "site.", check=_python_path(MODULE, "a module, e.g. shop.settings")
    )
    folder = None
    if raw_path is not None:
        folder = (Path(source).parent / raw_path).resolve()
        line = section.key_lines["path"]
        if not folder.is_dir():
            checker.problem(line, "site.path", f"no such folder: {folder}")
        elif not (folder / "manage.py").is_file():
            checker.problem(line, "site.path", f"{folder} holds no manage.py; name the folder that holds it")
    package = settings.rsplit(".", 1)[0] + "." if settings and "." in settings else ""
    application = _python_path(APPLICATION, "a module and its application, e.g. shop.wsgi:application")
    wsgi = checker.get(section, "wsgi", str, "site.", default=f"{package}wsgi:application", check=application)
    asgi = checker.get(section, "asgi", str, "site.", default=f"{package}asgi:application", check=application)
    ready = checker.get(section, "ready", str, "site.", default="/", check=starts_with_slash)
    setup: list[str] = []
    if "setup" in section:
        commands = section["setup"]
        line = section.key_lines["setup"]
        if isinstance(commands, str):
            commands = [commands]
        # A list (a matrix's copy of the file is made of plain lists).
        if not isinstance(commands, list) or not all(isinstance(c, str) and c.strip() for c in commands):
            checker.problem(line, "site.setup", f"must be a list of shell commands, got {section['setup']!r}")
        else:
            setup = list(commands)
    env = _strings(checker, section, "env", "site.")
    if len(checker.problems) > problems or folder is None or settings is None:
        return None
    return Site(
        name=folder.name,
        folder=folder,
        settings=settings,
        wsgi=wsgi,
        asgi=asgi,
        views=(),  # filled from the project itself once its paths are checked (check_paths)
        ready=ready,
        env=tuple(env.items()),
        project=True,
        setup=tuple(setup),
    )


def _path(value: str, path_check: Check) -> str | None:
    """A mix entry's path: the site's path (as path_check says), then a query string sent as it is."""
    return path_check(value.split("?", 1)[0]) or starts_with_slash(value)


def _request(checker: Checker, entry: Map, where: str, site: Site) -> Request | None:
    problems = len(checker.problems)
    checker.known_keys(entry, REQUEST_KEYS, where)
    method = checker.get(entry, "method", str, where, default="GET", check=one_of(list(METHODS)))
    path_check = starts_with_slash if site.project else one_of(site.paths)
    path = checker.get(entry, "path", str, where, check=lambda value: _path(value, path_check))
    weight = checker.get(entry, "weight", int, where, default=1, check=between(1, MAX_WEIGHT))
    status = checker.get(entry, "status", int, where, default=None, check=between(100, 599))
    body = checker.get(entry, "body", str, where, default=None)
    json_text = None
    bodies = [key for key in ("json", "body", "form") if key in entry]
    if len(bodies) > 1:
        checker.problem(entry.key_lines[bodies[0]], where + bodies[0],
                        f"give either {bodies[0]} or {bodies[1]}, not both")  # fmt: skip
    if "json" in entry:
        json_text = json.dumps(entry["json"])
    form = _form(checker, entry, where) if "form" in entry else None
    contains = checker.get(entry, "contains", str, where, default=None, check=_non_empty)
    headers = _strings(checker, entry, "headers", where, http=True)
    placeholders = values.parse(checker, entry, where, path)
    if len(checker.problems) > problems:
        return None
    line = entry.key_lines["path"]
    return Request(path, method, weight, json_text, body, tuple(headers.items()), status,
                   form, contains, placeholders, line, where + "path")  # fmt: skip


def _non_empty(value: str) -> str | None:
    return "must not be empty: every body holds the empty text" if not value else None


def _form(checker: Checker, entry: Map, where: str) -> tuple[tuple[str, str], ...] | None:
    """A form's fields: names to plain values, sent as application/x-www-form-urlencoded."""
    value = checker.get(entry, "form", dict, where, default=None)
    if value is None:
        return None
    found: list[tuple[str, str]] = []
    for name, item in value.items():
        text = _text(item)
        if text is None or not isinstance(name, str) or not name:
            checker.problem(value.key_lines[name], f"{where}form.{shown_text(str(name))}",
                            f"a form field is a name and a string or a number, got {shown(item)}")  # fmt: skip
        else:
            found.append((name, text))
    return tuple(found)


def parse_requests(checker: Checker, data: Map, site: Site) -> tuple[Request, ...]:
    """The `requests:` mix; every entry checked, problems collected."""
    entries, line = data["requests"], data.key_lines["requests"]
    if not isinstance(entries, list) or not entries:
        checker.problem(line, "requests", "must be a non-empty list of requests, each a mapping with a path")
        return ()
    if len(entries) > MAX_ENTRIES:
        checker.problem(line, "requests", f"{len(entries):,} entries; at most {MAX_ENTRIES} (give weights instead)")
        return ()
    found: list[Request] = []
    lines = getattr(entries, "item_lines", [line] * len(entries))  # a matrix's copy keeps no item lines
    for number, (entry, entry_line) in enumerate(zip(entries, lines, strict=True)):
        where = f"requests[{number}]."
        if not isinstance(entry, Map):
            checker.problem(entry_line, where.rstrip("."), f"must be a mapping with a path, got {entry!r}")
            continue
        request = _request(checker, entry, where, site)
        if request:
            found.append(request)
    size = len(json.dumps([request.as_json() for request in found], separators=(",", ":")))
    if size > MAX_MIX_BYTES:
        checker.problem(line, "requests", f"the mix is {size:,} bytes written out; at most {MAX_MIX_BYTES:,} "
                                          "(locust gets it on its command line): shorten its bodies")  # fmt: skip
    return tuple(found)


def check_paths(site: Site, requests: tuple[Request, ...], source: str, site_line: int) -> tuple[Site, list[str]]:
    """Import the project (in a subprocess) and resolve every request's path; the site then knows each
    path's view and whether it is async. Problems: one per path that does not resolve, with a
    did-you-mean from the project's routes, or the import's error."""
    # Imported here: asking a project starts a process, which reading a bundled site's scenario never does.
    from djload import project

    try:
        # A path with placeholders is resolved with its first value (a model's: values.SAMPLE_KEY).
        sent = [values.sample(r.path, r.values) for r in requests]
        found = project.inspect(site.folder, site.settings, sent, dict(site.env))
    except project.ProjectError as exc:
        return site, [f"{source}:{site_line}: site.settings: {site.settings} does not import: {exc}"]
    problems: list[str] = []
    views: dict[str, View] = {}
    for request, path_sent in zip(requests, sent, strict=True):
        path = request.path.split("?", 1)[0]
        resolved = found.resolved.get(path_sent)
        if resolved is None:
            close = found.did_you_mean(path_sent)
            hint = f"did you mean '{close}'?" if close else "its routes: " + ", ".join(r.route for r in found.routes)
            problems.append(
                f"{source}:{request.line}: {request.where}: '{path_sent}' does not resolve in {site.settings}; {hint}"
            )
        else:
            views[path] = View(path, Work.UNKNOWN, resolved.is_async)
        for model in values.models(request.values):
            if model.label not in found.models:
                close_model = difflib.get_close_matches(model.label, found.models, n=1)
                hint = f"did you mean '{close_model[0]}'?" if close_model else "its models: " + ", ".join(found.models)
                problems.append(
                    f"{source}:{model.line}: {model.where}: no model '{model.label}' in {site.settings}; {hint}"
                )
    auth = found.auth
    checked = replace(
        site,
        views=tuple(views.values()),
        facts=found.facts,
        login_url=auth.get("login_url", site.login_url),
        session_cookie=auth.get("session_cookie", site.session_cookie),
        csrf_cookie=auth.get("csrf_cookie", site.csrf_cookie),
    )
    return checked, problems
