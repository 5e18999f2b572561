"""A user's Django project, asked in a subprocess: routes, resolved paths, async views, import errors."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from djload import project

SHOP = Path(__file__).parent / "projects" / "shop"


def test_paths_resolve_with_djangos_resolver_and_say_whether_the_view_is_async() -> None:
    found = project.inspect(SHOP, "shop.settings", ["/items/", "/items/async/", "/orders/", "/items/3/?x=1", "/nope/"])
    assert found.resolved == {
        "/items/": project.View("store.views.items", is_async=False),
        "/items/async/": project.View("store.views.items_async", is_async=True),
        "/orders/": project.View("store.views.orders", is_async=False),
        "/items/3/?x=1": project.View("store.views.item", is_async=False),
        "/nope/": None,
    }


def test_routes_list_every_pattern_and_which_take_parameters() -> None:
    found = project.inspect(SHOP, "shop.settings")
    assert [(route.route, route.parameters) for route in found.routes] == [
        ("/", False),
        ("/items/", False),
        ("/items/async/", False),
        ("/items/<int:pk>/", True),
        ("/orders/", False),
        ("/items/<int:pk>/page/", True),
        ("/accounts/login/", False),
        ("/accounts/logout/", False),
        ("/account/orders/", False),
        ("/items/new/", False),
    ]
    # The models a `values: {model: ...}` may name, as app_label.Model.
    assert found.models == (
        "auth.Group", "auth.Permission", "auth.User", "contenttypes.ContentType", "sessions.Session", "store.Item",
        "store.Order",
    )  # fmt: skip
    assert found.plain_routes() == [
        "/", "/items/", "/items/async/", "/orders/", "/accounts/login/", "/accounts/logout/", "/account/orders/",
        "/items/new/",
    ]  # fmt: skip
    # What a signed-in client needs of the project's settings.
    assert found.auth == {"login_url": "/accounts/login/", "session_cookie": "sessionid", "csrf_cookie": "csrftoken"}
    assert found.did_you_mean("/item/") == "/items/"
    assert found.did_you_mean("/completely/elsewhere/") is None


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    shutil.copytree(SHOP, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    return folder


def test_class_based_views_includes_and_namespaces(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "store" / "cbv.py").write_text(
        "from django.http import HttpResponse\n"
        "from django.urls import path, re_path\n"
        "from django.views import View\n\n"
        "class AsyncView(View):\n"
        "    async def get(self, request):\n"
        "        return HttpResponse('ok')\n\n"
        "class SyncView(View):\n"
        "    def get(self, request):\n"
        "        return HttpResponse('ok')\n\n"
        "app_name = 'api'\n"
        "urlpatterns = [path('a/', AsyncView.as_view()), re_path(r'^s/$', SyncView.as_view()),\n"
        "               re_path(r'^n/(?P<n>[0-9]+)/$', SyncView.as_view())]\n"
    )
    urls = folder / "shop" / "urls.py"
    text = urls.read_text().replace("import path", "import include, path")
    urls.write_text(text.replace("urlpatterns = [", "urlpatterns = [\n    path('api/', include('store.cbv')),"))
    found = project.inspect(folder, "shop.settings", ["/api/a/", "/api/s/"])
    assert found.resolved == {
        "/api/a/": project.View("store.cbv.AsyncView", is_async=True),
        "/api/s/": project.View("store.cbv.SyncView", is_async=False),
    }
    api = [(route.route, route.parameters, route.namespace) for route in found.routes if route.namespace]
    assert api == [("/api/a/", False, "api"), ("/api/s/", False, "api"), ("/api/n/(?P<n>[0-9]+)/", True, "api")]


@pytest.mark.parametrize(
    ("settings", "breaks", "error"),
    [
        ("shopp.settings", None, "ModuleNotFoundError: No module named 'shopp'"),
        ("shop.settings", ("shop/settings.py", "import missing_package_xyz\n"),
         "ModuleNotFoundError: No module named 'missing_package_xyz'"),
        ("shop.settings", ("store/views.py", "raise RuntimeError('the views are broken')\n"),
         "RuntimeError: the views are broken"),
        ("shop.settings", ("shop/settings.py", "import sys\nsys.exit('settings refuse to load')\n"),
         "SystemExit: settings refuse to load"),
    ],
)  # fmt: skip
def test_a_project_that_does_not_import_gives_its_errors_last_line(
    tmp_path: Path, settings: str, breaks: tuple[str, str] | None, error: str
) -> None:
    folder = _copy(tmp_path)
    if breaks:
        file, code = breaks
        (folder / file).write_text((folder / file).read_text() + code)
    with pytest.raises(project.ProjectError) as raised:
        project.inspect(folder, settings, ["/items/"])
    assert str(raised.value) == error


def test_a_process_that_dies_without_a_word_or_hangs(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    settings = folder / "shop" / "settings.py"
    settings.write_text(settings.read_text() + "import os\nos._exit(3)\n")
    with pytest.raises(project.ProjectError, match="exited with code 3"):
        project.inspect(folder, "shop.settings")
    settings.write_text(settings.read_text().replace("os._exit(3)", "import time\ntime.sleep(60)"))
    with pytest.raises(project.ProjectError, match="more than 2 s"):
        project.inspect(folder, "shop.settings", timeout_s=2)


def test_the_scenarios_environment_reaches_the_project(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    settings = folder / "shop" / "settings.py"
    settings.write_text(settings.read_text() + "import os\nif os.environ['SHOP_MODE'] != 'on': raise ValueError\n")
    project.inspect(folder, "shop.settings", env={"SHOP_MODE": "on"})
    with pytest.raises(project.ProjectError, match="KeyError: 'SHOP_MODE'"):
        project.inspect(folder, "shop.settings")


def test_keys_are_read_from_the_projects_database_in_order_and_bounded(tmp_path: Path) -> None:
    env = {"SHOP_DB": str(tmp_path / "keys.sqlite3")}
    with pytest.raises(project.ProjectError, match="no such table: store_item"):
        project.keys(SHOP, "shop.settings", ["store.Item"], env)  # not migrated yet
    migrate = [sys.executable, "manage.py", "migrate", "--noinput"]
    subprocess.run(migrate, cwd=SHOP, env={**os.environ, **env}, check=True, capture_output=True)
    assert project.keys(SHOP, "shop.settings", ["store.Item"], env) == {"store.Item": ["1", "2", "3"]}
    assert project.keys(SHOP, "shop.settings", ["store.Item"], env, limit=2) == {"store.Item": ["1", "2"]}
    with pytest.raises(project.ProjectError, match="store.Order has no rows"):
        project.keys(SHOP, "shop.settings", ["store.Item", "store.Order"], env)
