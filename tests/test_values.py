"""Placeholders in a mix entry's path: values from a list or from a model's primary keys, in turn, on the shop
project under real servers, and every bad case exit 2 before anything boots."""

import json
import re
from collections import Counter
from pathlib import Path

from djload import values
from tests.helpers import djload
from tests.test_own_project import _scenario

DETAIL_AND_QUERY = """requests:
  - path: /items/{pk}/page/
    values: {pk: {model: store.Item}}
  - path: /items/?q={q}
    values: {q: [a/b, "c?d#e"]}
matrix:
  server.mode: [wsgi, asgi]
"""


def _sent(access_log: Path, prefix: str) -> Counter[str]:
    """How many times the server's access log shows each request path starting with prefix."""
    return Counter(re.findall(r'"GET (' + re.escape(prefix) + r'[^ "]*) HTTP', access_log.read_text()))


def test_model_keys_and_list_values_are_sent_in_turn_with_exact_counts_under_wsgi_and_asgi(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, DETAIL_AND_QUERY)  # 10 users × 6 requests: 30 per entry
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    rows = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [row["server_mode"] for row in rows] == ["wsgi", "asgi"]
    for row in rows:
        # The entry keeps its templated path as its name: thresholds and compare name it so.
        counts = {(e["path"], e["completed_requests"], e["total_errors"]) for e in row["by_request"]}
        assert counts == {("/items/{pk}/page/", 30, 0), ("/items/?q={q}", 30, 0)}
        folder = tmp_path / "out" / f"shop-{row['server_mode']}"
        # The shop's three items (its migration makes them), 10 each; the list's two values, 15 each,
        # percent-encoded: '/', '?' and '#' are part of the value, not of the URL's structure.
        pages = _sent(folder / "access.log", "/items/")
        assert {path: n for path, n in pages.items() if path.endswith("/page/")} == {
            "/items/1/page/": 10, "/items/2/page/": 10, "/items/3/page/": 10}  # fmt: skip
        assert {path: n for path, n in pages.items() if "?q=" in path} == {
            "/items/?q=a%2Fb": 15, "/items/?q=c%3Fd%23e": 15}  # fmt: skip
    assert "mix of 2 requests" in done.stdout and "GET /items/{pk}/page/" in done.stdout


def test_a_model_without_rows_fails_the_run_before_its_swarm(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "requests:\n  - path: /items/{pk}/\n    values: {pk: {model: store.Order}}\n")
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 1, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["status"] == "failed" and "store.Order has no rows in the project's database" in row["problem"]
    assert not row.get("completed_requests")  # no request was sent


def test_placeholders_without_values_unused_values_and_unknown_models_are_exit_2(tmp_path: Path) -> None:
    body = """requests:
  - path: /items/{pk}/
  - path: /items/
    values: {pk: [1, 2]}
  - path: /items/{pk}/page/
    values: {pk: {model: store.Itme}}
"""
    scenario = _scenario(tmp_path, body)
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == [
        f"{scenario}:11: requests[0].path: {{pk}} has no values: add values: {{pk: [a, b]}} "
        "or {pk: {model: app_label.Model}}",
        f"{scenario}:13: requests[1].values.pk: is never used: the path's placeholders are none",
    ]
    # The model is the project's to know: asked in the probe once the file itself is sound.
    scenario.write_text(scenario.read_text().replace("  - path: /items/{pk}/\n  - path: /items/\n"
                                                     "    values: {pk: [1, 2]}\n", ""))  # fmt: skip
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr + done.stdout
    assert done.stderr.strip() == (
        f"{scenario}:12: requests[0].values.pk.model: no model 'store.Itme' in shop.settings; "
        "did you mean 'store.Item'?"
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "shop.sqlite3").exists()


def test_request_k_of_an_entry_over_all_users_walks_the_values_without_a_gap() -> None:
    users, rounds, given = 4, 3, ["a", "b", "c", "d", "e", "f"]
    sent = Counter(
        values.fill("/x/{v}/", {"v": given}, values.index(user, users, k))
        for user in range(users)
        for k in range(rounds)
    )
    assert sent == {f"/x/{v}/": 2 for v in given}  # 12 requests over 6 values: each twice
    assert values.fill("/x/?q={q}", {"q": ["a b/c?d#e&f"]}, 0) == "/x/?q=a%20b%2Fc%3Fd%23e%26f"


def test_a_warm_up_goes_to_the_first_key_read_from_the_model(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "requests:\n  - path: /items/{pk}/page/\n    values: {pk: {model: store.Item}}\n")
    scenario.write_text(
        scenario.read_text().replace("{users: 10, requests_per_user: 6}", "{users: 2, requests_per_user: 3}")
    )
    done = djload("run", scenario, "--out", tmp_path / "out", "--warmup", "2")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (row["warmup_requests"], row["completed_requests"], row["total_errors"]) == (2, 6, 0)
    # The warm-up's two, then the swarm's six over the three keys: request k takes key k mod 3.
    assert _sent(tmp_path / "out" / "shop" / "access.log", "/items/") == {
        "/items/1/page/": 2 + 2, "/items/2/page/": 2, "/items/3/page/": 2}  # fmt: skip
