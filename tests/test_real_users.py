"""Real users on the shop project: a login through its own form, CSRF, a form POST, a content check, no
redirect followed, and no secret on a command line or in any file a run writes."""

import contextlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from djload.masking import masked
from djload.servers import free_port, look
from tests.conftest import Run
from tests.helpers import djload

SHOP = Path(__file__).parent / "projects" / "shop"
PASSWORD = "Sekr3t-pw-4711"
LOGIN = "login:\n  path: /accounts/login/\n  username: alice\n  password_env: DJANGO_SUPERUSER_PASSWORD\n"
# 4 users × 4 requests walk the 4-long cycle from each place once: exactly 8, 4 and 4.
MIX = """requests:
  - path: /account/orders/
    contains: Orders of alice
    weight: 2
  - method: POST
    path: /items/new/
    form: {name: hat, price_cents: 250}
    status: 302
  - path: /items/
"""


def _scenario(tmp_path: Path, body: str, name: str = "shop", modes: str | None = "[wsgi, asgi]") -> Path:
    file = tmp_path / "scenarios" / f"{name}.yaml"
    file.parent.mkdir(exist_ok=True)
    file.write_text(
        f"name: {name}\nsite:\n  path: {os.path.relpath(SHOP, file.parent)}\n  settings: shop.settings\n"
        "  setup: [python manage.py migrate --noinput, python manage.py shop_user alice]\n"
        f"  env: {{SHOP_DB: {tmp_path}/shop.sqlite3}}\n"
        f"server: {{mode: {'wsgi' if modes else 'asgi'}}}\nswarm: {{users: 4, requests_per_user: 4}}\n"
        + (f"matrix:\n  server.mode: {modes}\n" if modes else "")
        + body
    )
    return file


def _watched(tmp_path: Path, scenario: Path, secrets: list[str], *options: str) -> tuple[int, str]:
    """Run djload, reading every process's command line and the locust input file's mode while it runs."""
    run = Run(scenario, "--out", tmp_path / "out", *options, cwd=tmp_path)
    modes: set[int] = set()
    polls = 0
    lines: set[str] = set()  # every command line seen (a zombie's reads as empty: kept from before)
    while run.process.poll() is None:
        for child in run.descendants():
            with contextlib.suppress(psutil.Error):
                lines.add(" ".join(child.cmdline()))
        polls += 1
        for found in tmp_path.rglob(".locust-input.json") if polls % 8 == 0 else []:
            with contextlib.suppress(FileNotFoundError):  # removed as the swarm ends
                modes.add(stat.S_IMODE(found.stat().st_mode))
        time.sleep(0.002)
    stdout, stderr = run.process.communicate()
    assert any(" -m locust " in line for line in lines), (stdout, stderr, lines)
    typed = " ".join(run.process.args)  # type: ignore[arg-type]
    for line in lines - {typed}:  # a child just forked shows djload's own command line, the user's to type
        assert not [secret for secret in secrets if secret in line], line
    assert modes == {0o600}  # the input file was there, readable by the user alone
    assert not list(tmp_path.rglob(".locust-input.json"))  # and removed at the end
    for file in (tmp_path / "out").rglob("*"):
        if file.is_file():
            text = file.read_bytes().decode("utf-8", "replace")
            assert not [secret for secret in secrets if secret in text], file
    for secret in secrets:
        assert secret not in stdout + stderr
    return run.process.returncode, stdout + stderr


def _access(folder: Path) -> list[str]:
    """The server's access-log request lines ("GET /items/"), the readiness polls (GET /, the ready path) left out."""
    lines = (folder / "access.log").read_text().splitlines()
    return [seen for line in lines if (seen := line.split('"')[1].rsplit(" ", 1)[0]) != "GET /"]


def test_signed_in_users_under_wsgi_and_asgi_exact_counts_no_redirect_followed_no_password_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    code, output = _watched(tmp_path, _scenario(tmp_path, LOGIN + MIX), [PASSWORD])
    assert code == 0, output
    rows = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [row["server_mode"] for row in rows] == ["wsgi", "asgi"]
    for row in rows:
        assert row["status"] == "completed" and (row["completed_requests"], row["total_errors"]) == (16, 0)
        assert [(e["path"], e["completed_requests"], e["total_errors"]) for e in row["by_request"]] == [
            ("/account/orders/", 8, 0), ("/items/new/", 4, 0), ("/items/", 4, 0)]  # fmt: skip
        login = row["login"]
        assert login["users"] == 4 and login["failures"] == [] and login["mean_ms"] > 0
        # The server saw each counted request once and each user's sign-in (GET and POST): no redirect
        # was followed (a followed one would add a GET of /items/ or of the login page per request).
        seen = _access(tmp_path / "out" / f"shop-{row['server_mode']}")
        assert sorted(seen) == sorted(
            ["GET /accounts/login/"] * 4 + ["POST /accounts/login/"] * 4
            + ["GET /account/orders/"] * 8 + ["POST /items/new/"] * 4 + ["GET /items/"] * 4
        )  # fmt: skip
        assert row["login"] and "locust_command" in row and "--input-file" in row["locust_command"]
    with sqlite3.connect(tmp_path / "shop.sqlite3") as db:  # every POST's row, 4 per mode
        assert db.execute("SELECT COUNT(*) FROM store_item WHERE name = 'hat'").fetchone() == (8,)


def test_the_same_mix_without_login_exits_1_saying_the_page_redirected_to_the_login_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    done = djload("run", _scenario(tmp_path, MIX, modes="[wsgi]"), "--out", tmp_path / "out")
    assert done.returncode == 1
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["status"] == "failed" and "login" not in row
    assert row["problem"] == "8 requests failed: redirected to the login page: add a `login:` block"
    assert "redirected to the login page" in done.stderr
    # Its status asks for exactly the redirect it gets (a 302, here to the login page): it counts as asked.
    assert [(e["path"], e["total_errors"]) for e in row["by_request"]] == [
        ("/account/orders/", 8), ("/items/new/", 0), ("/items/", 0)]  # fmt: skip


def test_a_wrong_password_is_a_run_error_naming_the_account_and_the_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    monkeypatch.setenv("WRONG_PASSWORD", "not-it")
    login = LOGIN.replace("password_env: DJANGO_SUPERUSER_PASSWORD", "password_env: WRONG_PASSWORD")
    done = djload("run", _scenario(tmp_path, login + MIX, modes="[asgi]"), "--out", tmp_path / "out")
    assert done.returncode == 1
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["completed_requests"] == 0 and row["login"]["users"] == 0
    assert row["problem"].startswith(
        "login as 'alice': POST /accounts/login/ answered HTTP 200 and set no sessionid cookie "
        "(wrong username or password?) (and 3 more)"
    )


def test_secrets_of_headers_bodies_forms_and_queries_reach_no_command_line_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An anonymous user's form POST through CsrfViewMiddleware too: the login form, a wrong password, 200."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    secrets = ["HDRSECRET1", "KEYSECRET2", "JSONSECRET3", "FORMSECRET4", "QUERYSECRET5", "COOKIESECRET6"]
    mix = f"""requests:
  - path: /items/?api_key={secrets[4]}
    headers: {{Authorization: Bearer {secrets[0]}, X-Api-Key: {secrets[1]}, Cookie: pref={secrets[5]}}}
  - method: POST
    path: /orders/
    json: {{item: 1, quantity: 1, token: {secrets[2]}}}
    status: 201
  - method: POST
    path: /accounts/login/
    form: {{username: bob, password: {secrets[3]}}}
    status: 200
    contains: Please enter a correct
  - path: /items/
"""
    scenario = _scenario(tmp_path, mix, modes="[asgi]")
    # FastHttpUser: its own cookie jar gets the anonymous user's CSRF cookie (HttpUser's: the tests above).
    scenario.write_text(
        scenario.read_text().replace("requests_per_user: 4}", "requests_per_user: 4, user_class: fast}")
    )
    code, output = _watched(tmp_path, scenario, secrets)
    assert code == 0, output
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [(e["completed_requests"], e["total_errors"]) for e in row["by_request"]] == [(4, 0)] * 4
    assert row["endpoint"] == "mix of 4 requests"
    names = [(e["method"], e["path"]) for e in row["by_request"]]
    assert names[:2] == [("GET", "/items/?api_key=***"), ("POST", "/orders/")]


def test_every_kind_of_secret_is_masked_by_the_one_masking() -> None:
    assert masked("http://u:pw1@127.0.0.1:8000/") == "http://u:***@127.0.0.1:8000/"
    assert masked("postgresql://django:pw2@db:5432/shop?sslmode=off&password=pw3") == (
        "postgresql://django:***@db:5432/shop?sslmode=off&password=***"
    )
    assert masked("GET /x/?page=2&access_token=t&apikey=k&SessionId=s&q=1") == (
        "GET /x/?page=2&access_token=***&apikey=***&SessionId=***&q=1"
    )


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        ("login:\n  username: alice\n  password: x\n", 12, "login.path: missing; it must be a string"),
        ("login:\n  path: /accounts/login/\n  username: a\n  password: x\n  accounts: [{username: b, password: y}]\n",
         13, "login.username: give either username (with its password) or accounts, not both"),
        ("login:\n  path: /accounts/login/\n  username: a\n  password_env: DJLOAD_TEST_UNSET\n", 14,
         "login.password_env: the environment variable DJLOAD_TEST_UNSET is not set"),
        ("requests:\n  - {method: POST, path: /orders/, json: {a: 1}, form: {a: 1}}\n", 12,
         "requests[0].json: give either json or form, not both"),
        ("requests:\n  - {path: /items/, contains: 3}\n", 12, "requests[0].contains: must be a string, got 3"),
        ("login:\n  path: /accounts/login/\n  username: a\n  password: x\n  fields: {user: email}\n", 15,
         "login.fields.user: unknown key; did you mean 'username'?"),
    ],
)  # fmt: skip
def test_bad_login_form_and_contains_are_exit_2_with_file_line_before_anything_boots(
    tmp_path: Path, body: str, line: int, problem: str
) -> None:
    rest = "" if "requests:" in body else "requests:\n  - path: /items/\n"
    scenario = _scenario(tmp_path, body + rest)
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.strip() == f"{scenario}:{line}: {problem}"
    assert not (tmp_path / "out").exists() and not (tmp_path / "shop.sqlite3").exists()


def test_a_target_urls_password_reaches_no_command_line_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--target: the shop served by a gunicorn of the test's own, its URL with a user and password."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    env = {**os.environ, "SHOP_DB": str(tmp_path / "shop.sqlite3")}
    for setup in (["migrate", "--noinput"], ["shop_user", "alice"]):
        subprocess.run([sys.executable, "manage.py", *setup], cwd=SHOP, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shop.asgi:application", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "1"],
        cwd=SHOP, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    secret = "TARGETSECRET7"
    try:
        deadline = time.monotonic() + 60
        while look(f"http://127.0.0.1:{port}/") is None and time.monotonic() < deadline:
            time.sleep(0.1)
        target = f"asgi=http://u:{secret}@127.0.0.1:{port}"
        # The password written in the scenario itself this time, not read from the environment.
        login = LOGIN.replace("password_env: DJANGO_SUPERUSER_PASSWORD", f"password: {PASSWORD}")
        scenario = _scenario(tmp_path, login + MIX, modes=None)
        code, output = _watched(tmp_path, scenario, [secret, PASSWORD], "--target", target)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    assert code == 0, output
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["target"] == f"http://u:***@127.0.0.1:{port}" and row["completed_requests"] == 16
    assert row["login"]["users"] == 4 and row["total_errors"] == 0


def test_a_warm_up_of_a_login_required_page_follows_no_redirect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its GETs get the 302 to the login page and go no further: the access log holds no login-page GET of them."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    done = djload("run", _scenario(tmp_path, LOGIN + MIX, modes="[asgi]"), "--out", tmp_path / "out", "--warmup", "3")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["warmup_requests"] == 3 and row["completed_requests"] == 16
    seen = _access(tmp_path / "out" / "shop-asgi")
    assert seen.count("GET /account/orders/") == 8 + 3 and seen.count("GET /accounts/login/") == 4
    assert not [line for line in seen if "?next=" in line]  # a followed redirect would GET the login page's URL


def test_a_database_urls_passwords_are_masked_in_its_error_and_in_every_file(tmp_path: Path) -> None:
    secrets = ["DBSECRET1", "DBSECRET2"]
    url = f"postgresql://django:{secrets[0]}@127.0.0.1:{free_port()}/shop?password={secrets[1]}"  # nothing listens
    scenario = tmp_path / "db.yaml"
    scenario.write_text(
        "server: {mode: wsgi}\nendpoint: {path: /db/sync/}\nswarm: {users: 1}\n"
        f"database: {{engine: postgres, url: '{url}'}}\n"
    )
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 3, done.stderr + done.stdout
    assert "postgresql://django:***@127.0.0.1:" in done.stderr and "password=***" in done.stderr
    for secret in secrets:
        assert secret not in done.stdout + done.stderr
    assert (tmp_path / "out" / "summary.json").is_file()  # the boot failure's row, its problem masked too
    for file in (tmp_path / "out").rglob("*"):
        assert not file.is_file() or not [s for s in secrets if s in file.read_text(errors="replace")], file


def test_a_project_whose_ready_path_redirects_is_up_on_that_redirect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No redirect is followed by the readiness poll either: the 302 to the login page is the project's answer."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    scenario = _scenario(tmp_path, LOGIN + MIX, modes="[wsgi]")
    scenario.write_text(
        scenario.read_text().replace(
            "settings: shop.settings\n", "settings: shop.settings\n  ready: /account/orders/\n"
        )
    )
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    seen = (tmp_path / "out" / "shop-wsgi" / "access.log").read_text()
    assert '"GET /account/orders/ HTTP/1.1" 302' in seen and "?next=" not in seen


def test_signed_in_users_over_two_locust_processes_each_count_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked workers read the input file themselves; the master gathers their sign-ins with their records."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    scenario = _scenario(tmp_path, LOGIN + MIX, modes="[asgi]")
    scenario.write_text(scenario.read_text().replace("requests_per_user: 4}", "requests_per_user: 4, processes: 2}"))
    done = djload("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert row["login"]["users"] == 4 and [e["completed_requests"] for e in row["by_request"]] == [8, 4, 4]
    assert _access(tmp_path / "out" / "shop-asgi").count("POST /accounts/login/") == 4


SIGNED_IN_JOURNEY = '''"""A signed-in shopper: their orders, then the list of items."""

from locust import HttpUser, task


class Shopper(HttpUser):
    @task
    def orders_then_items(self) -> None:
        with self.client.get("/account/orders/", allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200 or "Orders of alice" not in answer.text:
                answer.failure(f"not signed in: HTTP {answer.status_code}")
        self.client.get("/items/")
'''


def test_a_users_own_locustfile_signs_in_first_and_its_counted_requests_are_only_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "shopper.py").write_text(SIGNED_IN_JOURNEY)
    code, output = _watched(tmp_path, _scenario(tmp_path, LOGIN + "locustfile: shopper.py\n"), [PASSWORD])
    assert code == 0, output
    for row in json.loads((tmp_path / "out" / "summary.json").read_text()):
        # 4 users × 4 requests: the sign-ins are no counted request, and every orders page was the user's own.
        assert (row["completed_requests"], row["total_errors"]) == (16, 0), row["server_mode"]
        assert [(e["path"], e["completed_requests"]) for e in row["by_request"]] == [
            ("/account/orders/", 8), ("/items/", 8)]  # fmt: skip
        assert row["login"]["users"] == 4 and row["login"]["failures"] == []
