"""Load goes to loopback only unless --allow-remote; the site runs with DEBUG off and its own key.

The refusals are checked without sending anything: no server is started for them.
"""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from djload import servers, swarm
from djload.scenario import load_file
from tests.conftest import ScenarioFactory, new_results


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.0.0.2:8000/x",
        "http://localhost:1",
        "http://[::1]:80",
        "https://LOCALHOST",
    ],
)
def test_loopback_targets_pass(url: str) -> None:
    assert servers.check_target(url) == url


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3:8000", "http://192.0.2.1", "http://example.com", "http://0.0.0.0:8000", "http://[2001:db8::1]:80",
     "http://[::ffff:192.0.2.1]:80", "http://127.0.0.1.example.com"],
)  # fmt: skip
def test_other_targets_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(servers.TargetError, match="is not a loopback address.*--allow-remote"):
        servers.check_target(url)
    assert servers.check_target(url, allow_remote=True) == url


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://127.0.0.1", "http://", "http://127.0.0.1:99999"])
def test_malformed_targets_are_refused(url: str) -> None:
    with pytest.raises(servers.TargetError):
        servers.check_target(url, allow_remote=True)


def test_the_swarm_refuses_a_remote_host_before_starting_locust(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file())
    with pytest.raises(servers.TargetError):
        swarm.run(swarm.SwarmSpec(scenario, "http://192.0.2.1:8000", tmp_path))
    assert not (tmp_path / "locust.log").exists()
    assert not psutil.Process().children()


def test_serve_refuses_to_bind_beyond_loopback(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "djload.cli", "serve", str(scenario_file()), "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "djload: http://0.0.0.0:0: 0.0.0.0 is not a loopback address; "
        "djload sends load only to 127.0.0.1 unless --allow-remote is given"
    )


def test_site_runs_with_debug_off_and_a_key_per_run(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file(server={"mode": "wsgi", "workers": 2}))
    keys = []
    for n in range(2):
        out = tmp_path / str(n)
        out.mkdir()
        with servers.serve(servers.ServerSpec(scenario, out)) as server:
            workers = psutil.Process(server.process.pid).children()
            environments = [server.process.pid] + [w.pid for w in workers]
            run_keys = {psutil.Process(pid).environ()["DJANGO_SECRET_KEY"] for pid in environments}
            assert len(run_keys) == 1  # every worker signs with the same key
            keys.append(run_keys.pop())
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(server.base_url + "/no-such-page/", timeout=10)
            body = caught.value.read().decode()
            caught.value.close()
            assert caught.value.code == 404
            assert "DEBUG = True" not in body and "URLconf" not in body  # Django's debug page says both
    assert keys[0] != keys[1] and len(keys[0]) >= 50


def test_a_given_secret_key_is_used(scenario_file: ScenarioFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "given-key")
    assert servers.environment(load_file(scenario_file()))["DJANGO_SECRET_KEY"] == "given-key"


def test_proxies_cannot_carry_the_load_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://192.0.2.1:3128")
    monkeypatch.setenv("https_proxy", "http://192.0.2.1:3128")
    monkeypatch.setenv("LOCUST_USERS", "5")
    environment = swarm.environment()
    assert not {"HTTP_PROXY", "https_proxy", "LOCUST_USERS"} & set(environment)


def test_the_secret_key_is_not_written_to_the_results(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "djload.cli", "run", str(scenario_file()), "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "DJANGO_SECRET_KEY": "s3cr3t-k3y"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "summary.json").read_text())[0]["status"] == "completed"
    for path in out.rglob("*"):
        if path.is_file():
            assert "s3cr3t-k3y" not in path.read_text(errors="replace"), path


@pytest.mark.parametrize(
    "args",
    [
        ("run", "{scenario}", "--target", "asgi=http://192.0.2.1:8000"),
        ("run", "{scenario}", "--target", "asgi=http://example.com"),
        ("run", "{scenario}", "--external-workers", "0.0.0.0:5557"),
        ("serve", "{scenario}", "--host", "192.0.2.1"),
        ("ui", "{scenario}", "--web-host", "0.0.0.0"),
        ("ui", "{scenario}", "--target", "asgi=http://192.0.2.1:8000"),
        ("worker", "--master", "192.0.2.1:5557"),
    ],
)
def test_every_command_refuses_a_remote_address(
    args: tuple[str, ...], scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    """Refused before any process starts or any folder is made: nothing can have been sent."""
    assert "--allow-remote" in _refused_at_once(args, scenario_file, tmp_path)


def _refused_at_once(args: tuple[str, ...], scenario_file: ScenarioFactory, tmp_path: Path) -> str:
    """djload with args ({scenario}: a scenario file) exits 2 with one line, making no folder: the line."""
    scenario = scenario_file()
    with new_results() as made:
        done = subprocess.run(
            [sys.executable, "-m", "djload.cli", *(a.format(scenario=scenario) for a in args)],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert made() == []
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and not done.stdout, done.stderr + done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenarios"]
    return done.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:s3cret@example.com:8000/", "http://user:***@example.com:8000/"),
        ("https://user:p@ss:w0rd@example.com", "https://user:***@example.com"),  # the last @ ends the userinfo
        ("http://:s3cret@example.com/x?a=b@c", "http://:***@example.com/x?a=b@c"),
        ("http://user@example.com/", "http://user@example.com/"),  # no password: nothing to hide
        ("http://127.0.0.1:8000/a:b@c", "http://127.0.0.1:8000/a:b@c"),  # an @ in the path is no userinfo
    ],
)
def test_a_password_in_a_url_is_masked(url: str, shown: str) -> None:
    assert servers.masked(url) == shown


@pytest.mark.parametrize(
    "args",
    [
        ("run", "{scenario}", "--target", "asgi=http://user:s3cret@example.com:8000"),
        ("run", "{scenario}", "--target", "asgi=http://user:s3cret@127.0.0.1:99999"),
        ("run", "{scenario}", "--target", "asgy=http://user:s3cret@127.0.0.1:8000"),
        ("run", "{scenario}", "--target", "asgi=http://user:s3cret@[::1]x:8000"),
        ("run", "{scenario}", "--target", "asgi=http://user:s3cret@127.0.0.1:8000/?x"),
        ("ui", "{scenario}", "--target", "asgi=http://user:s3cret@192.0.2.1:8000"),
    ],
)
def test_a_refused_target_never_shows_its_password(
    args: tuple[str, ...], scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    line = _refused_at_once(args, scenario_file, tmp_path)
    assert "user:***@" in line and "s3cret" not in line, line


def test_a_target_with_credentials_is_measured_and_its_password_kept_out_of_the_results(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    """The user and password reach the site (as Locust sends them); no line djload prints or writes shows it."""
    scenario = scenario_file()
    port = servers.free_port()
    with new_results(), (tmp_path / "site.log").open("wb") as log:
        site = subprocess.Popen([sys.executable, "-m", "djload.cli", "serve", str(scenario), "--port", str(port)],
                                stdout=log, stderr=log)  # fmt: skip
        try:
            out = tmp_path / "out"
            done = subprocess.run(
                [sys.executable, "-m", "djload.cli", "run", str(scenario), "--out", str(out),
                 "--target", f"asgi=http://user:s3cret@127.0.0.1:{port}"],
                capture_output=True, text=True, timeout=120, cwd=tmp_path,
            )  # fmt: skip
        finally:
            site.send_signal(signal.SIGINT)
            site.wait(timeout=30)
    assert done.returncode == 0, done.stderr + done.stdout
    (result,) = json.loads((out / "summary.json").read_text())
    assert (result["completed_requests"], result["total_errors"]) == (10, 0)
    assert result["target"] == f"http://user:***@127.0.0.1:{port}"
    assert "s3cret" not in done.stderr + done.stdout
    written = [path for path in out.rglob("*") if path.is_file() and "s3cret" in path.read_text(errors="replace")]
    assert written == []


def test_every_url_in_a_line_is_masked() -> None:
    line = "asgi=http://a:one@127.0.0.1:1 --host https://b:two@127.0.0.1:2/x"
    assert servers.masked(line) == "asgi=http://a:***@127.0.0.1:1 --host https://b:***@127.0.0.1:2/x"
