"""A user's own Locust file, unchanged, on the shop project under wsgi and asgi: a two-step journey whose
second request is read from the first one's answer, each user stopped after its count, every request in
by_request under its Locust name; and the file's bad cases exit 2 before anything boots."""

import json
from pathlib import Path

from tests.helpers import djload
from tests.test_own_project import _scenario

JOURNEY = '''"""A shopper: the list of items, then the first item's detail page, read from the list."""

from locust import HttpUser, task


class Shopper(HttpUser):
    @task
    def browse(self) -> None:
        items = self.client.get("/items/").json()["items"]
        self.client.get(f"/items/{items[0]['id']}/", name="/items/[id]/")
'''


def _with_locustfile(tmp_path: Path, text: str = JOURNEY, extra: str = "") -> Path:
    scenario = _scenario(tmp_path, "locustfile: journey.py\n" + extra)
    (scenario.parent / "journey.py").write_text(text)
    return scenario


def test_a_users_locustfile_runs_under_wsgi_and_asgi_with_its_names_in_by_request(tmp_path: Path) -> None:
    # A threshold names an entry by its Locust name, as for a mix's path.
    thresholds = 'thresholds:\n  "by_request[/items/[id]/].completed_requests": "== 30"\n'
    scenario = _with_locustfile(tmp_path, extra=thresholds + "matrix:\n  server.mode: [wsgi, asgi]\n")
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    rows = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [row["server_mode"] for row in rows] == ["wsgi", "asgi"]
    for row in rows:
        # 10 users × 6 requests: each user stopped at its count, three journeys of two steps each.
        assert (row["status"], row["completed_requests"], row["total_errors"]) == ("completed", 60, 0)
        assert row["endpoint"] == "locustfile journey.py"
        counts = [(e["method"], e["path"], e["completed_requests"], e["total_errors"]) for e in row["by_request"]]
        assert counts == [("GET", "/items/", 30, 0), ("GET", "/items/[id]/", 30, 0)]
        access = (tmp_path / "out" / f"shop-{row['server_mode']}" / "access.log").read_text()
        assert access.count('"GET /items/ HTTP') == 30 and access.count('"GET /items/1/ HTTP') == 30
    assert "GET /items/[id]/" in done.stdout and "GET /items/[id]/" in (tmp_path / "out" / "report.md").read_text()


def test_a_users_locustfile_runs_for_a_duration(tmp_path: Path) -> None:
    scenario = _with_locustfile(tmp_path)
    scenario.write_text(scenario.read_text().replace("requests_per_user: 6", "duration: 1"))
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["total_errors"] == 0 and row["completed_requests"] >= 20  # 10 users for a second, loopback
    assert 0.9 < row["total_time_s"] < 30


def test_a_locustfile_that_is_missing_misplaced_or_broken_is_exit_2(tmp_path: Path) -> None:
    scenario = _with_locustfile(tmp_path)
    cases = {
        "locustfile: nowhere.py\n": f"no such file: {scenario.parent / 'nowhere.py'}",
        "locustfile: .\n": f"{scenario.parent} is not a regular file; name a Locust file (.py)",
        "locustfile: journey.py\nrequests:\n  - path: /items/\n": "give either locustfile or requests, not both",
    }
    for body, problem in cases.items():
        text = scenario.read_text().split("locustfile:")[0] + body
        scenario.write_text(text)
        done = djload("run", scenario, "--out", tmp_path / "out")
        assert done.returncode == 2, done.stderr + done.stdout
        assert done.stderr.strip() == f"{scenario}:10: locustfile: {problem}"
    scenario.write_text(scenario.read_text().split("locustfile:")[0] + "locustfile: journey.py\n")
    (scenario.parent / "journey.py").write_text("from locust import HttpUser\nimport shop_helpers\n")
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr + done.stdout
    assert done.stderr.strip() == (
        f"{scenario}:10: locustfile: journey.py does not import: ModuleNotFoundError: No module named 'shop_helpers'"
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "shop.sqlite3").exists()
