import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from djload import ROOT, modes, processes, servers
from djload.scenario import Scenario, Server, load_file
from djload.sites import BUNDLED
from tests.conftest import ScenarioFactory


@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_each_mode_boots_answers_and_stops(mode: str, scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file(server={"mode": mode, "threads": 2}, sleep=0.05))
    with servers.serve(servers.ServerSpec(scenario, tmp_path)) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.base_url + "/sync/blocking/", timeout=10) as response:
            assert response.status == 200
            assert response.read() == b"sync response"
            assert response.headers["X-Worker-Pid"] in {
                str(p.pid) for p in psutil.Process(server.process.pid).children(recursive=True)
            } | {str(server.process.pid)}
            assert float(response.headers["X-View-Ms"]) >= 50
        group = [server.process.pid] + [p.pid for p in psutil.Process(server.process.pid).children(recursive=True)]
    assert not [pid for pid in group if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert "starting sync" in (tmp_path / "server.log").read_text()


def test_command_lines_are_the_slides() -> None:
    talk = load_file(ROOT / "scenarios" / "talk" / "asgi-async.yaml")
    argv = servers.command(talk, 8000, Path("access.log"))
    assert argv[1:4] == ["-m", "gunicorn", "django_adjango.asgi:application"]
    assert argv[argv.index("--worker-class") + 1] == "uvicorn_worker.UvicornWorker"
    assert "--no-control-socket" in argv
    wsgi = load_file(ROOT / "scenarios" / "talk" / "wsgi-sync.yaml")
    argv = servers.command(wsgi, 8000, Path("access.log"))
    assert argv[3] == "django_adjango.wsgi" and "--worker-class" not in argv


def _group_gone(pids: list[int]) -> bool:
    return not [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


def _broken_site(tmp_path: Path, file: str, old: str, new: str) -> Path:
    site = tmp_path / "site"
    shutil.copytree(BUNDLED.folder, site, ignore=shutil.ignore_patterns("__pycache__"))
    path = site / "django_adjango" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return site


def _served_from(folder: Path, scenario: Scenario, out_dir: Path) -> servers.ServerSpec:
    """The scenario's server with the bundled site's project in another folder."""
    return servers.ServerSpec(dataclasses.replace(scenario, site=dataclasses.replace(BUNDLED, folder=folder)), out_dir)


@pytest.mark.parametrize("mode", ["wsgi", "asgi", "uvicorn"])
def test_import_error_in_the_site_fails_fast_with_its_traceback(
    mode: str, scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    site = _broken_site(tmp_path, "urls.py", "from django_adjango import views", "import no_such_module")
    scenario = load_file(scenario_file(server={"mode": mode}))
    started = time.monotonic()
    with pytest.raises(servers.BootError) as caught, servers.serve(_served_from(site, scenario, tmp_path)):
        pass
    # Django imports urls.py on the first request: the probe gets a 500, at once, not at the deadline.
    assert time.monotonic() - started < servers.READY_TIMEOUT_S / 2
    assert "with HTTP 500" in str(caught.value)
    assert "ModuleNotFoundError: No module named 'no_such_module'" in str(caught.value), str(caught.value)


def test_import_error_in_settings_stops_the_server(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    site = _broken_site(tmp_path, "settings.py", "import secrets", "import secrets, no_such_settings_module")
    scenario = load_file(scenario_file(server={"mode": "wsgi"}))
    with pytest.raises(servers.BootError) as caught, servers.serve(_served_from(site, scenario, tmp_path)):
        pass
    message = str(caught.value)
    assert "before answering" in message or "within" in message
    assert "no_such_settings_module" in message, message


def test_port_already_taken_fails_at_once(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        spec = servers.ServerSpec(scenario, tmp_path, port=port)
        with pytest.raises(servers.BootError) as caught, servers.serve(spec):
            pass
    assert time.monotonic() - started < 5  # not gunicorn's five bind retries, one second apart
    assert f"cannot listen on 127.0.0.1:{port}" in str(caught.value)


def test_port_taken_by_another_server_after_the_check(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """Another server takes the port between our check and gunicorn's bind: gunicorn gives up, we say so."""
    scenario = load_file(scenario_file())
    with servers.serve(servers.ServerSpec(scenario, tmp_path)) as running:
        port = int(running.base_url.rsplit(":", 1)[1])
        other = tmp_path / "other"
        other.mkdir()
        server = servers.command(scenario, port, other / "access.log")
        process = processes.start(server, other / "server.log", ROOT, servers.environment(scenario))
        try:
            with pytest.raises(servers.BootError) as caught:
                # The first server answers /health/ on that port, but with a worker pid that is not ours.
                servers.wait_ready(servers.RunningServer(process, server, running.base_url, other / "server.log"))
        finally:
            processes.stop(process)
    assert "Address already in use" in str(caught.value)


def test_gunicorn_refusing_its_arguments(tmp_path: Path) -> None:
    scenario = load_file(ROOT / "scenarios" / "talk" / "wsgi-sync.yaml")
    broken = dataclasses.replace(scenario, server=Server(mode="wsgi", workers=-1))  # past the validation
    with pytest.raises(servers.BootError) as caught, servers.serve(servers.ServerSpec(broken, tmp_path)):
        pass
    assert "server exited with code 1" in str(caught.value)
    assert "Value must be positive: -1" in str(caught.value)


def test_readiness_never_reached_hits_the_deadline(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    # The server is up, but its /health/ never answers.
    site = _broken_site(
        tmp_path, "views.py", 'return HttpResponse("ok")', 'time.sleep(60)\n    return HttpResponse("ok")'
    )
    scenario = load_file(scenario_file(server={"mode": "wsgi"}))
    started = time.monotonic()
    with (
        pytest.raises(servers.BootError) as caught,
        servers.serve(_served_from(site, scenario, tmp_path), ready_timeout_s=2),
    ):
        pass
    assert 2 <= time.monotonic() - started < 10
    assert "did not answer" in str(caught.value) and "within 2 s" in str(caught.value)
    assert "Booting worker" in str(caught.value), str(caught.value)


def test_boot_failure_leaves_nothing_running(
    scenario_file: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _broken_site(
        tmp_path, "views.py", 'return HttpResponse("ok")', 'time.sleep(60)\n    return HttpResponse("ok")'
    )
    scenario = load_file(scenario_file(server={"mode": "wsgi", "workers": 2}))
    seen: list[int] = []
    wait_ready = servers.wait_ready

    def note_the_group(server: servers.RunningServer, timeout_s: float) -> float:
        while len(seen) < 3:  # the master and both workers
            seen[:] = [server.process.pid] + [c.pid for c in psutil.Process(server.process.pid).children(True)]
            time.sleep(0.05)
        return wait_ready(server, timeout_s)

    monkeypatch.setattr(servers, "wait_ready", note_the_group)
    with pytest.raises(servers.BootError), servers.serve(_served_from(site, scenario, tmp_path), ready_timeout_s=1):
        pass
    assert _group_gone(seen)


BROKEN_MODE = """
import dataclasses
import sys
from djload import cli, modes
modes.MODES["wsgi"] = dataclasses.replace(modes.MODES["wsgi"], launcher=modes.gunicorn("no.such.Worker"))
sys.exit(cli.main(sys.argv[1:]))
"""


def test_cli_boot_failure_exits_3_and_runs_the_rest(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario_file(name="a-broken", server={"mode": "wsgi"})
    folder = scenario_file(name="b-fine").parent
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", BROKEN_MODE, "run", str(folder), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "a-broken: boot_failed: server exited with code" in done.stderr
    assert "No module named 'no'" in done.stderr  # gunicorn's own words, from the end of its log
    assert "Traceback" not in done.stderr.split("boot_failed")[0]
    statuses = [(r["scenario"], r["status"]) for r in json.loads((out / "summary.json").read_text())]
    assert statuses == [("a-broken", "boot_failed"), ("b-fine", "completed")]


def test_serve_on_a_busy_port_exits_3(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "djload.cli", "serve", str(scenario_file()), "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 3
    assert done.stderr.strip() == f"djload: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_gunicorn_options_come_only_from_the_command_line(scenario_file: ScenarioFactory) -> None:
    os.environ["GUNICORN_CMD_ARGS"] = "--workers 0"
    try:
        environment = servers.environment(load_file(scenario_file()))
    finally:
        del os.environ["GUNICORN_CMD_ARGS"]
    assert "GUNICORN_CMD_ARGS" not in environment
