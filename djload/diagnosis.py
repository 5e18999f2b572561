"""Why a server mode costs what it costs for a project, said before the run from what its settings and views are.

Django builds its middleware chain once per process for the handler's mode (BaseHandler.load_middleware):
under ASGI the chain is async, under WSGI sync. A middleware that cannot run in that mode is adapted:
Django wraps the handler inside it so that the call crosses over and back on every request. Under ASGI a
sync-only middleware runs in a thread (sync_to_async: a hand-off to the thread and back, each way); under
WSGI an async-only one runs in an event loop (async_to_sync). A view is adapted the same way: a sync view
under ASGI runs in a thread, an async view under WSGI in an event loop of its own. The chain walk below is
Django's own, so the count is what the server does, not a guess.

Two settings are known to go wrong under a mode, and are said before the run instead of found in it:
- CONN_MAX_AGE above 0 under ASGI: each request's thread holds its own connection that outlives the
  request (Django's docs: "persistent connections should be disabled" under ASGI); PostgreSQL's pool
  (OPTIONS pool, Django 5.1+) is the way to reuse connections there;
- an async view under wsgi-gevent: Django runs it with async_to_sync, and gevent's greenlets share one OS
  thread, so the second request that overlaps one already in async_to_sync fails ("You cannot use
  AsyncToSync in the same thread as an async event loop").

The row keeps what is found as its `diagnosis`; the report sets it beside the CPU per request measured.
"""

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from djload.djangofacts import DjangoFacts, Middleware
from djload.modes import MODES, Concurrency
from djload.sites import Site


def cannot_run(middleware: Sequence[Middleware], is_async: bool) -> list[str]:
    """The middleware that cannot run in the handler's mode (sync-only under ASGI, async-only under WSGI):
    what makes Django adapt the chain."""
    return [entry.path for entry in middleware if not (entry.async_capable if is_async else entry.sync_capable)]


def adapted(middleware: Sequence[Middleware], is_async: bool) -> tuple[list[str], int]:
    """(the middleware Django runs in the other mode than the handler's, the crossings of the chain per
    request, each one way in and back out), as load_middleware builds the chain: innermost first.

    A middleware that can run both ways follows its inner handler's mode, so a sync-only one under ASGI
    takes every middleware outside it into the thread too, with one crossing below it and one at the top.
    A process_view hook (CsrfViewMiddleware's) is a crossing of its own when its mode is not the handler's.
    """
    handler_is_async, other, crossings = is_async, [], 0
    for entry in reversed(middleware):
        # Django's rule: a sync handler keeps a middleware that can be sync sync; else it is async if it can be.
        entry_is_async = False if not handler_is_async and entry.sync_capable else entry.async_capable
        crossings += entry_is_async != handler_is_async
        if entry_is_async != is_async:
            other.append(entry.path)
        handler_is_async = entry_is_async
    crossings += handler_is_async != is_async  # the top of the chain meets the server's handler
    # Each process_view hook of the other mode is adapted too, and called on every request that reaches a view.
    crossings += sum(
        1 for entry in middleware if entry.view_hook_async is not None and entry.view_hook_async != is_async
    )
    return other[::-1], crossings


def _persistent(facts: DjangoFacts, mode: str) -> list[str]:
    found = []
    for database in facts.databases:
        if database.conn_max_age is None or database.conn_max_age > 0:
            age = "None (for ever)" if database.conn_max_age is None else f"{database.conn_max_age:g}"
            pool = "" if "postgresql" not in database.engine else (
                "; PostgreSQL with Django 5.1+: use the backend's pool (OPTIONS: {pool: true}) instead"
            )  # fmt: skip
            found.append(
                f"{mode}: DATABASES['{database.alias}'] CONN_MAX_AGE {age} under ASGI: Django's docs say persistent "
                f"connections should be disabled under ASGI (each request's thread keeps a connection of its own){pool}"
            )
    return found


def diagnose(site: Site, mode: str, views: Sequence[tuple[str, bool | None]]) -> dict[str, Any] | None:
    """What a run of views (path, is_async; None: not known) under mode will cost and what will fail, as a row's
    `diagnosis`; None where there is nothing to say (the bundled site's views under a mode that serves them)."""
    interface = MODES[mode].interface
    is_async = interface == "asgi"
    warnings = []
    if MODES[mode].concurrency is Concurrency.GREENLETS:
        for path, view_is_async in views:
            if view_is_async:
                warnings.append(
                    f"{mode} with the async view {path}: Django runs it with async_to_sync, which fails as soon as "
                    "two requests overlap in gevent's one OS thread (You cannot use AsyncToSync in the same thread "
                    "as an async event loop); serve async views under an ASGI mode"
                )
    if site.facts is None:
        return {"interface": interface, "warnings": warnings} if warnings else None
    other, crossings = adapted(site.facts.middleware, is_async)
    if is_async:
        warnings += _persistent(site.facts, mode)
    return {
        "interface": interface,
        "middleware": [asdict(entry) for entry in site.facts.middleware],
        "adapted_middleware": cannot_run(site.facts.middleware, is_async),
        "other_mode_middleware": other,
        "crossings_per_request": crossings,
        "views": [
            {"path": path, "async": view_is_async, "adapted": view_is_async is not None and view_is_async != is_async}
            for path, view_is_async in views
        ],
        "warnings": warnings,
    }


def describe(found: dict[str, Any]) -> str:
    """The diagnosis in one sentence: what Django adapts on every request under the row's interface."""
    interface = str(found.get("interface", "")).upper()
    parts = []
    if "adapted_middleware" in found:
        cause, other = found["adapted_middleware"], found.get("other_mode_middleware") or []
        kind, where = ("sync-only", "a thread") if interface == "ASGI" else ("async-only", "an event loop")
        said = f"{len(cause)} {kind} middleware adapted per request under {interface}"
        if cause:
            said += (
                f" ({', '.join(cause)}): {len(other)} of {len(found.get('middleware') or [])} middleware run in "
                f"{where}, {found.get('crossings_per_request', 0)} crossing(s) each way"
            )
        parts.append(said)
    views = found.get("views") or []
    moved = [view["path"] for view in views if view.get("adapted")]
    if views:
        how = "handed to a thread (sync_to_async)" if interface == "ASGI" else "run in an event loop (async_to_sync)"
        parts.append(f"{len(moved)} of {len(views)} view(s) {how}" + (f": {', '.join(moved)}" if moved else ""))
    return "; ".join(parts)


def of_scenario(site: Site, mode: str, paths: Sequence[str]) -> dict[str, Any] | None:
    """diagnose() for the paths a scenario sends to, each view's async-ness as the site knows it."""
    views = []
    for path in dict.fromkeys(path.split("?", 1)[0] for path in paths):
        view = site.view(path)
        views.append((path, view.is_async if view else None))
    return diagnose(site, mode, views)


def known_failures(scenarios: Sequence[tuple[str, dict[str, Any] | None]]) -> list[str]:
    """The warnings of (scenario name, diagnosis) pairs, printed before the run starts, one line each."""
    return [f"{name}: {warning}" for name, found in scenarios if found for warning in found.get("warnings", [])]
