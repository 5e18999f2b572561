"""A scenario's own project: the `site:` block and the `requests:` mix, checked against the project itself."""

from pathlib import Path

import pytest

from djload.scenario import ScenarioError, load
from djload.sites import BUNDLED
from djload.usersite import Request

SHOP = Path(__file__).parent / "projects" / "shop"
MIX = """requests:
  - path: /items/
    weight: 2
  - path: /items/async/
  - method: POST
    path: /orders/
    json: {item: 3, quantity: 2}
    headers: {X-Shop: test}
    status: 201
    weight: 3
"""


def _write(tmp_path: Path, text: str, site: str = "") -> Path:
    """tmp_path/scenarios/shop.yaml; the shop is at ../tests/shop from there (a link to the test projects)."""
    file = tmp_path / "scenarios" / "shop.yaml"
    file.parent.mkdir(exist_ok=True)
    if not (tmp_path / "tests").exists():
        (tmp_path / "tests").symlink_to(SHOP.parent, target_is_directory=True)
    site = (
        site or f"site:\n  path: ../tests/shop\n  settings: shop.settings\n  env: {{SHOP_DB: {tmp_path}/db.sqlite3}}\n"
    )
    file.write_text(site + "server: {mode: wsgi}\nswarm: {users: 2, requests_per_user: 6}\n" + text)
    return file


def test_a_project_scenario_loads_with_its_sites_defaults_and_the_views_facts(tmp_path: Path) -> None:
    (scenario,) = load([_write(tmp_path, MIX)])
    site = scenario.site
    assert site.project and site.folder == SHOP.resolve()
    assert (site.settings, site.wsgi, site.asgi, site.ready) == (
        "shop.settings", "shop.wsgi:application", "shop.asgi:application", "/")  # fmt: skip
    assert site.env == (("SHOP_DB", f"{tmp_path}/db.sqlite3"),)
    assert scenario.requests == (
        Request("/items/", weight=2),
        Request("/items/async/"),
        Request("/orders/", "POST", 3, '{"item": 3, "quantity": 2}', None, (("X-Shop", "test"),), 201),
    )
    assert [(view.path, view.is_async) for view in site.views] == [
        ("/items/", False), ("/items/async/", True), ("/orders/", False)]  # fmt: skip
    # Named briefly: each entry has its own line in the per-request table.
    assert scenario.endpoint_label == "mix of 3 requests"


def test_a_single_endpoint_of_a_project_is_a_mix_of_one(tmp_path: Path) -> None:
    (scenario,) = load([_write(tmp_path, "endpoint: {path: /items/async/}\n")])
    assert scenario.requests == (Request("/items/async/"),)
    assert scenario.site.view("/items/async/") is not None


def test_a_path_the_project_does_not_resolve_names_file_line_and_a_route(tmp_path: Path) -> None:
    file = _write(tmp_path, MIX.replace("/items/async/", "/itemz/async/"))
    with pytest.raises(ScenarioError) as raised:
        load([file])
    assert raised.value.problems == [
        f"{file}:10: requests[1].path: '/itemz/async/' does not resolve in shop.settings; did you mean '/items/async/'?"
    ]
    file = _write(tmp_path, "endpoint: {path: /nowhere/at/all/}\n")
    routes = (
        "/, /items/, /items/async/, /items/<int:pk>/, /orders/, /items/<int:pk>/page/, /accounts/login/, "
        "/accounts/logout/, /account/orders/, /items/new/"
    )
    with pytest.raises(ScenarioError, match=f":7: endpoint.path: '/nowhere/at/all/' does not resolve in shop.settings; "
                       f"its routes: {routes}$"):  # fmt: skip
        load([file])


def test_a_project_that_does_not_import_is_named_with_the_errors_last_line(tmp_path: Path) -> None:
    file = _write(tmp_path, MIX)
    file.write_text(file.read_text().replace("settings: shop.settings", "settings: shopp.settings"))
    with pytest.raises(ScenarioError) as raised:
        load([file])
    assert raised.value.problems == [
        f"{file}:1: site.settings: shopp.settings does not import: ModuleNotFoundError: No module named 'shopp'"
    ]


@pytest.mark.parametrize(
    ("site", "text", "problem"),
    [
        ("site: {path: ., settings: shop.settings}\n", MIX, "1: site.path: {folder} holds no manage.py"),
        ("site: {path: ./nope, settings: shop.settings}\n", MIX, "1: site.path: no such folder"),
        ("site: {path: ../tests/shop}\n", MIX, "1: site.settings: missing; it must be a string"),
        ("site: {path: ../tests/shop, settings: shop.settings, wsgii: x}\n", MIX,
         "1: site.wsgii: unknown key; did you mean 'wsgi'?"),
        ("site: {path: ../tests/shop, settings: shop.settings, ready: health}\n", MIX,
         "1: site.ready: must be a URL path starting with '/', got 'health'"),
        ("site: {path: ../tests/shop, settings: shop.settings, setup: [1]}\n", MIX,
         "1: site.setup: must be a list of shell commands, got [1]"),
        ("", MIX.replace("method: POST", "method: PSOT"), "11: requests[2].method: unknown value 'PSOT'; "
         "did you mean 'POST'?"),
        ("", MIX.replace("weight: 3", "wieght: 3"), "16: requests[2].wieght: unknown key; did you mean 'weight'?"),
        ("", MIX.replace("weight: 2", "weight: 0"), "9: requests[0].weight: must be from 1 to 1000, got 0"),
        ("", MIX.replace("status: 201", "status: 2010"), "15: requests[2].status: must be from 100 to 599, got 2010"),
        ("", MIX.replace("headers: {X-Shop: test}", "body: text"), "13: requests[2].json: give either json or body"),
        ("", MIX.replace("path: /items/\n", "path: items/\n"), "8: requests[0].path: must be a URL path starting "
         "with '/', got 'items/'"),
        ("", "requests: []\n", "7: requests: must be a non-empty list of requests"),
        ("", MIX + "endpoint: {path: /items/}\n", "17: endpoint: give either endpoint or requests, not both"),
    ],
)  # fmt: skip
def test_bad_site_and_mix_fields(tmp_path: Path, site: str, text: str, problem: str) -> None:
    file = _write(tmp_path, text, site)
    with pytest.raises(ScenarioError) as raised:
        load([file])
    assert any(line.startswith(f"{file}:{problem.format(folder=file.parent)}") for line in raised.value.problems), (
        raised.value.problems
    )


def test_the_bundled_site_takes_a_mix_of_its_own_paths(tmp_path: Path) -> None:
    text = "requests: [{path: /sync/blocking/, weight: 2}, {path: /async/non-blocking/}]\n"
    (scenario,) = load([_write(tmp_path, text, "sleep: 0.1\n")])
    assert scenario.site is BUNDLED and len(scenario.requests) == 2
    with pytest.raises(ScenarioError, match=r"requests\[0\].path: unknown value '/sync/blockin/'; did you mean"):
        load([_write(tmp_path, text.replace("/sync/blocking/", "/sync/blockin/"), "sleep: 0.1\n")])
