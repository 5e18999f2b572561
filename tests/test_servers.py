import urllib.request
from pathlib import Path

import psutil
import pytest

from djload import servers
from djload.scenario import ROOT, load_file
from tests.conftest import ScenarioFactory


@pytest.mark.parametrize("mode", sorted(servers.MODES))
def test_each_mode_boots_answers_and_stops(mode: str, scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file(server={"mode": mode, "threads": 2}, sleep=0.05))
    with servers.serve(scenario, tmp_path) as server:
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
    argv = servers.command(talk.server, 8000, Path("access.log"))
    assert argv[1:4] == ["-m", "gunicorn", "django_adjango.asgi:application"]
    assert argv[argv.index("--worker-class") + 1] == "uvicorn_worker.UvicornWorker"
    assert "--no-control-socket" in argv
    wsgi = load_file(ROOT / "scenarios" / "talk" / "wsgi-sync.yaml")
    argv = servers.command(wsgi.server, 8000, Path("access.log"))
    assert argv[3] == "django_adjango.wsgi" and "--worker-class" not in argv


def test_boot_failure_is_reported_with_the_server_log(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file())
    with servers.serve(scenario, tmp_path) as running:
        port = int(running.base_url.rsplit(":", 1)[1])
        other = tmp_path / "other"
        other.mkdir()
        with pytest.raises(servers.BootError) as caught, servers.serve(scenario, other, port=port):
            pass
    assert "server exited with code" in str(caught.value)
