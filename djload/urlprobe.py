"""Runs inside a user's Django project, never in djload's own process: ``python -m djload.urlprobe OUT PATH...``.

djload/project.py starts it with the project's folder as the working directory (so the project's packages
import as they do under its server) and DJANGO_SETTINGS_MODULE set. It sets Django up, resolves each PATH
with Django's own URL resolver, lists the project's URL patterns (with --ask first: GETs each
parameter-free route once, for `djload init`), and writes what it found as JSON to
OUT: a file, because the project's code may print to stdout while it imports. It also reads what its
settings make each request cost (MIDDLEWARE's sync/async flags, DATABASES' CONN_MAX_AGE and pool), and
what a signed-in client needs (LOGIN_URL, the session and CSRF cookies' names).
It imports nothing else from djload: what runs in the project's process is this file alone.
"""

import inspect
import json
import sys
import traceback
from typing import Any

ASK = "--ask"


def _last_line(exc: BaseException) -> str:
    """What a person reads first in a traceback: its last line (``ModuleNotFoundError: No module named 'x'``)."""
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _is_async(view: Any) -> bool:
    """Whether Django runs the view as a coroutine, as its request handler decides it."""
    from asgiref.sync import iscoroutinefunction

    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        try:
            return bool(view_class.view_is_async)
        except Exception:  # a class mixing sync and async handlers: Django refuses it when it is called
            pass
    return bool(iscoroutinefunction(view) or inspect.iscoroutinefunction(view))


def _detail_model(view: Any) -> str:
    """The model a DetailView-like class view reads its object from (app_label.Model), with the URL's keyword
    for its primary key: "store.Item pk"; empty for any other view."""
    from django.views.generic.detail import SingleObjectMixin

    view_class: Any = getattr(view, "view_class", None)
    if not (isinstance(view_class, type) and issubclass(view_class, SingleObjectMixin)):
        return ""
    detail: Any = view_class  # mypy knows SingleObjectMixin without Django's stubs
    model = detail.model or getattr(detail.queryset, "model", None)
    return f"{model._meta.label} {detail.pk_url_kwarg}" if model is not None else ""


def _view_name(view: Any) -> str:
    view = getattr(view, "view_class", view)
    return f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"


def _routes(patterns: Any, prefix: str = "", namespace: str = "") -> list[dict[str, Any]]:
    """Every URL pattern, includes walked, as a path a person would write ("/items/<int:pk>/")."""
    from django.urls import URLPattern, URLResolver
    from django.urls.resolvers import RegexPattern, RoutePattern

    found: list[dict[str, Any]] = []
    for entry in patterns:
        pattern = entry.pattern
        text = str(pattern)
        if isinstance(pattern, RegexPattern):
            text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
            parameters = pattern.regex.groups > 0 or any(char in text for char in "()[]*+?{}|\\.")
        elif isinstance(pattern, RoutePattern):
            parameters = bool(pattern.converters)
        else:  # a locale prefix: the active language's code
            parameters = False
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            for route in _routes(entry.url_patterns, prefix + text, inner):
                route["parameters"] = route["parameters"] or parameters
                found.append(route)
        elif isinstance(entry, URLPattern):
            found.append(
                {
                    "route": "/" + prefix + text,
                    "parameters": parameters,
                    "view": _view_name(entry.callback),
                    "async": _is_async(entry.callback),
                    "namespace": namespace,
                    "name": entry.name or "",
                    "detail": _detail_model(entry.callback),
                }
            )
    return found


def _middleware() -> list[dict[str, Any]]:
    """Each entry of MIDDLEWARE with the flags Django's handler reads (BaseHandler.load_middleware), its
    defaults where a middleware says nothing: sync only. Read from the classes, not from the debug log
    lines Django writes when it adapts one, which need DEBUG logging."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    found = []
    for path in settings.MIDDLEWARE:
        middleware = import_string(path)
        # A process_view hook is called on every request in the handler's mode, adapted when it is not.
        hook = getattr(middleware, "process_view", None)
        found.append(
            {
                "path": path,
                "sync_capable": bool(getattr(middleware, "sync_capable", True)),
                "async_capable": bool(getattr(middleware, "async_capable", False)),
                "view_hook_async": None if hook is None else bool(inspect.iscoroutinefunction(hook)),
            }
        )
    return found


def _databases() -> list[dict[str, Any]]:
    """Each database's engine, CONN_MAX_AGE (Django's default 0) and whether its backend pools connections."""
    from django.conf import settings

    return [
        {
            "alias": alias,
            "engine": str(config.get("ENGINE", "")),
            "conn_max_age": config.get("CONN_MAX_AGE", 0),
            "pool": bool((config.get("OPTIONS") or {}).get("pool")),
        }
        for alias, config in settings.DATABASES.items()
    ]


def ask(routes: list[dict[str, Any]]) -> dict[str, Any]:
    """GET each parameter-free route once with Django's test client, anonymously, with the host the server
    will see (a project's ALLOWED_HOSTS refuses the client's default "testserver"): each route's status, and
    whether it sent the user to the login page. For `djload init`: what a starter must leave out."""
    from django.conf import settings
    from django.shortcuts import resolve_url
    from django.test import Client

    login_url = str(resolve_url(settings.LOGIN_URL))
    client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
    answers: dict[str, Any] = {}
    for route in routes:
        if route["parameters"] or route["namespace"].split(":")[0] == "admin":
            continue
        try:
            response = client.get(route["route"])
        except Exception as exc:  # a view that breaks the client itself: the starter says so
            answers[route["route"]] = {"status": 0, "login": False, "error": _last_line(exc)}
            continue
        location = response.get("Location", "") if 300 <= response.status_code < 400 else ""
        answers[route["route"]] = {
            "status": response.status_code,
            "login": location.split("?", 1)[0] in (login_url, "http://127.0.0.1" + login_url),
        }
    return {"answers": answers, "login_url": login_url}


def probe(paths: list[str], asking: bool = False) -> dict[str, Any]:
    try:
        import django

        django.setup()
        from django.apps import apps
        from django.urls import Resolver404, get_resolver, resolve

        resolver = get_resolver()
        routes = _routes(resolver.url_patterns)
        models = sorted(model._meta.label for model in apps.get_models())
        facts = {"middleware": _middleware(), "databases": _databases()}
    except (Exception, SystemExit) as exc:
        return {"error": _last_line(exc)}
    resolved: dict[str, Any] = {}
    for path in paths:
        try:
            match = resolve(path.split("?", 1)[0])
        except Resolver404:
            resolved[path] = None
        except Exception as exc:  # a broken include found only now
            return {"error": _last_line(exc)}
        else:
            resolved[path] = {"view": _view_name(match.func), "async": _is_async(match.func)}
    result = {"routes": routes, "resolved": resolved, "models": models, "auth": _auth(), **facts}
    if asking:
        try:
            result.update(ask(routes))
        except Exception as exc:
            return {"error": _last_line(exc)}
    return result


def _auth() -> dict[str, str]:
    """The settings a signed-in user's client needs: where login redirects, and the cookies' names."""
    import urllib.parse

    from django.conf import settings
    from django.shortcuts import resolve_url

    try:
        login_url = urllib.parse.urlsplit(str(resolve_url(settings.LOGIN_URL))).path
    except Exception:  # a LOGIN_URL naming no route: nothing redirects there
        login_url = ""
    return {
        "login_url": login_url,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


def main(argv: list[str]) -> int:
    out, *paths = argv
    asking = bool(paths) and paths[0] == ASK  # a path starts with '/': never taken for the flag
    result = probe(paths[1:] if asking else paths, asking)
    with open(out, "w", encoding="utf-8") as file:
        json.dump(result, file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
