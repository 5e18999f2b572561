"""The catalog: the bundled site's facts agree with its Django project; the modes' table builds each
command line; the pure models import nothing that starts processes."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from djload import modes
from djload.sites import BUNDLED, Work

PROJECT = BUNDLED.folder / "django_adjango"


def _routes() -> dict[str, str]:
    """URL path → view function name, as urls.py declares them."""
    tree = ast.parse((PROJECT / "urls.py").read_text())
    routes = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "path":
            route, view = call.args
            assert isinstance(route, ast.Constant) and isinstance(view, ast.Attribute)
            routes["/" + str(route.value)] = view.attr
    return routes


def test_the_bundled_sites_views_are_its_urls() -> None:
    assert BUNDLED.paths == list(_routes())


def test_each_views_kind_matches_its_code() -> None:
    functions = {
        node.name: node
        for node in ast.parse((PROJECT / "views.py").read_text()).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for path, name in _routes().items():
        view = BUNDLED.view(path)
        assert view is not None
        function = functions[name]
        assert view.is_async == isinstance(function, ast.AsyncFunctionDef), path
        source = ast.unparse(function)
        assert view.blocking == ("time.sleep(" in source or " _client().get(" in source), path
        assert (view.work is Work.SLEEP) == ("sleep(settings.SLEEP)" in source), path
        assert (view.work is Work.UPSTREAM) == ("_upstream_url()" in source), path
        assert (view.work is Work.DATABASE_READ) == ("Item.objects" in source), path
        assert (view.work is Work.DATABASE_WRITE) == ("Entry.objects" in source), path


def test_a_view_is_found_by_its_path_with_or_without_a_query() -> None:
    assert BUNDLED.view("/sync/computation/?times=10") == BUNDLED.view("/sync/computation/")
    assert BUNDLED.view("/nowhere/") is None
    blocking = BUNDLED.view("/async/blocking/")
    assert blocking is not None and blocking.kind == "async, blocking"


@pytest.mark.parametrize("name", sorted(modes.MODES))
def test_each_mode_loads_its_interfaces_application(name: str) -> None:
    mode = modes.MODES[name]
    launch = modes.Launch(BUNDLED, workers=2, threads=3, host="127.0.0.1", port=8000, access_log=Path("a.log"))
    argv = mode.command(launch)
    assert argv[:2] == [sys.executable, "-m"]
    # As each server takes it: granian wants module:name, hypercorn a path under the site's folder.
    module = BUNDLED.application(mode.interface).split(":")[0]
    assert any(arg.split(":")[0].endswith(module) for arg in argv)
    assert any(arg.startswith(str(BUNDLED.folder)) for arg in argv)
    assert ("3" in argv and ("--threads" in argv or "--blocking-threads" in argv)) == mode.uses_threads


def test_the_pure_models_start_nothing() -> None:
    code = (
        "import json, sys; import djload.ideal, djload.metrics, djload.records, djload.scenario; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    assert not {"subprocess", "djload.servers", "djload.processes", "djload.swarm", "locust"} & set(loaded)
