"""Why a mode costs what it costs for a user's project: its middleware's flags, its views' kinds, its known
failures, read from the project before the run and set beside the CPU per request measured."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from djload import diagnosis, project
from djload.djangofacts import Middleware
from tests.helpers import djload

SHOP = Path(__file__).parent / "projects" / "shop"
SHOPS_OWN = "shop.middleware.ServedBy"

# Django's own chain builder, run in the shop's process: every adaptation it makes is counted.
COUNT_ADAPTATIONS = textwrap.dedent(
    """
    import sys
    import django
    from django.core.handlers.base import BaseHandler

    django.setup()
    crossings = 0
    adapt = BaseHandler.adapt_method_mode

    def counted(self, is_async, method, method_is_async=None, *args, **kwargs):
        global crossings
        adapted = adapt(self, is_async, method, method_is_async, *args, **kwargs)
        crossings += adapted is not method
        return adapted

    BaseHandler.adapt_method_mode = counted
    BaseHandler().load_middleware(is_async=sys.argv[1] == "asgi")
    print(crossings)
    """
)


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_the_chain_walk_counts_the_crossings_djangos_handler_makes(interface: str) -> None:
    found = project.inspect(SHOP, "shop.settings", ["/items/"], {"SHOP_DB": "/nonexistent/never-opened.sqlite3"})
    assert Middleware(SHOPS_OWN, sync_capable=True, async_capable=False) in found.facts.middleware
    env = project.environment("shop.settings")
    done = subprocess.run([sys.executable, "-c", COUNT_ADAPTATIONS, interface], cwd=SHOP, env=env,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    other, crossings = diagnosis.adapted(found.facts.middleware, interface == "asgi")
    # Under ASGI: into the thread below the shop's sync-only middleware, back at the top, and the CSRF
    # middleware's sync process_view hook.
    assert crossings == int(done.stdout) == (3 if interface == "asgi" else 0)
    assert other == ([m.path for m in found.facts.middleware] if interface == "asgi" else [])


def test_a_chain_of_both_kinds() -> None:
    both, sync, asynchronous = Middleware("both", True, True), Middleware("sync"), Middleware("async", False, True)
    # Outermost first, as MIDDLEWARE lists them. Wherever a sync-only one stands under ASGI it costs two
    # crossings (into the thread below it, back at the top); those that can do both outside it go along.
    assert diagnosis.adapted([sync, both, both], True) == (["sync"], 2)
    assert diagnosis.adapted([Middleware("both", True, True, view_hook_async=False)], True) == ([], 1)
    assert diagnosis.adapted([both, sync, both], True) == (["both", "sync"], 2)
    assert diagnosis.adapted([both, asynchronous, both], False) == (["both", "async"], 2)
    assert diagnosis.cannot_run([both, sync, asynchronous], True) == ["sync"]


def test_the_shop_under_wsgi_asgi_and_gevent(tmp_path: Path) -> None:
    scenario = tmp_path / "shop.yaml"
    scenario.write_text(
        f"name: shop\nsite:\n  path: {SHOP}\n  settings: shop.settings\n  setup: [python manage.py migrate --noinput]\n"
        f"  env: {{SHOP_DB: {tmp_path}/shop.sqlite3}}\nserver: {{mode: asgi, workers: 1}}\n"
        "swarm: {users: 4, requests_per_user: 6}\nrequests:\n  - {path: /items/, weight: 2}\n"
        "  - {path: /items/async/, weight: 1}\nmatrix:\n  server.mode: [wsgi, asgi, wsgi-gevent]\n"
    )
    done = djload("run", scenario, "--out", tmp_path / "out")
    # Said before the run starts: the first thing on stderr, before the failure it foretells.
    first = done.stderr.splitlines()[0]
    assert first == (
        "WARNING: shop-wsgi-gevent: wsgi-gevent with the async view /items/async/: Django runs it with async_to_sync, "
        "which fails as soon as two requests overlap in gevent's one OS thread (You cannot use AsyncToSync in the "
        "same thread as an async event loop); serve async views under an ASGI mode"
    ), done.stderr
    rows = {row["server_mode"]: row for row in json.loads((tmp_path / "out" / "summary.json").read_text())}
    asgi, wsgi, gevent = rows["asgi"]["diagnosis"], rows["wsgi"]["diagnosis"], rows["wsgi-gevent"]["diagnosis"]
    assert asgi["adapted_middleware"] == [SHOPS_OWN] and asgi["crossings_per_request"] == 3
    assert [(v["path"], v["async"], v["adapted"]) for v in asgi["views"]] == [
        ("/items/", False, True), ("/items/async/", True, False)]  # fmt: skip
    assert wsgi["adapted_middleware"] == [] and wsgi["warnings"] == [] and asgi["warnings"] == []
    assert [(v["path"], v["adapted"]) for v in wsgi["views"]] == [("/items/", False), ("/items/async/", True)]
    assert gevent["warnings"] == [first.removeprefix("WARNING: shop-wsgi-gevent: ")]
    assert rows["wsgi"]["status"] == rows["asgi"]["status"] == "completed"
    report = (tmp_path / "out" / "report.md").read_text()
    cpu = rows["asgi"]["server_cpu_ms_per_request"] - rows["wsgi"]["server_cpu_ms_per_request"]
    assert (
        "mix of 2 requests: 1 sync-only middleware adapted per request under ASGI (3 crossing(s) "
        f"of the chain each way) and 1 sync view(s) handed to a thread (asgi): {cpu:+.2f} ms of server CPU per "
        "request against wsgi"
    ) in report
    assert f"shop-asgi (asgi): 1 sync-only middleware adapted per request under ASGI ({SHOPS_OWN}): 6 of 6" in report


def test_a_persistent_connection_under_asgi_is_said(tmp_path: Path) -> None:
    from djload.djangofacts import Database, DjangoFacts
    from djload.sites import Site

    site = Site("p", tmp_path, "p.settings", "p.wsgi", "p.asgi:application", (), project=True,
                facts=DjangoFacts((), (Database("default", "django.db.backends.postgresql", 60, False),)))  # fmt: skip
    (warning,) = (diagnosis.diagnose(site, "asgi", []) or {})["warnings"]
    assert "DATABASES['default'] CONN_MAX_AGE 60 under ASGI" in warning and "pool" in warning
    assert (diagnosis.diagnose(site, "wsgi", []) or {})["warnings"] == []
