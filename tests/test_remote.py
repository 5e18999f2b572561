"""Measurements where the processes run: a site's control endpoint (its server's CPU and log lines per run)
and the locust workers' reports of their own CPU."""

import base64
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from djload import controlauth, remote, serverlog, servers
from djload.scenario import load_file
from tests.conftest import ScenarioFactory


def _send(url: str, count: int) -> tuple[float, float]:
    """count requests at once; the window from the first send to the last answer, epoch seconds."""
    start = time.time()
    threads = [threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=30).read()) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return start, time.time()


def test_control_endpoint_hands_each_run_its_cpu_and_log_lines(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    scenario = load_file(scenario_file(endpoint={"path": "/sync/blocking/"}))
    site = tmp_path / "site"
    site.mkdir()
    with (
        servers.serve(servers.ServerSpec(scenario, site)) as server,
        remote.control(server, site, servers.HOST, servers.free_port()) as url,
    ):
        control = remote.Control(url)
        with pytest.raises(remote.ControlError, match="409"):
            control.end(0, 1, 1, tmp_path)  # nothing begun
        runs = []
        for count in (4, 6):
            out = tmp_path / f"run-{count}"
            out.mkdir()
            control.begin()
            start, end = _send(server.base_url + "/sync/blocking/", count)
            runs.append((count, out, control.end(start, end, count, out)))
    for count, out, usage in runs:
        # The server worked, but far less than the window: its views sleep.
        assert 0 < usage["server_cpu_percent"] < 100 and usage["server_cpu_ms_per_request"] > 0
        # The site's memory is sampled there too, with its CPU: a --control run's rows have it.
        assert (
            5 < usage["server_memory_mib"] < 4000
            and 0 < usage["server_memory_mib_per_worker"] <= usage["server_memory_mib"]
        )
        stats = serverlog.read(out / "server.log")  # only this run's lines: its own views, all at once under ASGI
        assert (stats.views_started, stats.views_finished, stats.peak_in_view) == (count, count, count)
        assert len((out / "access.log").read_text().splitlines()) == count


def test_generator_usage_from_the_workers_reports(tmp_path: Path) -> None:
    assert remote.generator_usage(tmp_path, 0, 1, 2) == {}  # no reports: nothing to say
    reports = [{"wall_s": 2.0, "cpu_s": 1.0, "busy_s": 1.2}, {"wall_s": 2.0, "cpu_s": 1.9, "busy_s": 1.95}]
    (tmp_path / "generator.json").write_text(json.dumps(reports))
    usage = remote.generator_usage(tmp_path, 10.0, 12.0, cpus=8)
    assert usage == {"generator_cpu_percent": 72.5, "generator_busy_percent": 78.8,
                     "generator_capacity_cpus": 2, "generator_bound": False}  # fmt: skip
    assert remote.generator_usage(tmp_path, 10.0, 12.0, cpus=1)["generator_bound"]  # two workers on one CPU


def _post(url: str, headers: dict[str, str] | None = None, method: str = "POST") -> tuple[int, dict[str, object]]:
    """A raw request of the control endpoint: its status and its JSON body (every answer must be JSON)."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with servers.NO_PROXY.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_the_control_endpoint_answers_only_the_runs_token(
    scenario_file: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = load_file(scenario_file(endpoint={"path": "/sync/blocking/"}))
    monkeypatch.delenv(controlauth.TOKEN_ENV, raising=False)
    with (
        servers.serve(servers.ServerSpec(scenario, tmp_path)) as server,
        remote.control(server, tmp_path, servers.HOST, servers.free_port()) as url,
    ):
        parts = urllib.parse.urlsplit(url)
        token, bare = parts.password or "", f"http://{parts.hostname}:{parts.port}"
        assert parts.username == controlauth.USER and len(token) >= 32  # made up for this endpoint
        wrong = base64.b64encode(b"djload:" + b"x" * len(token)).decode()
        for headers in ({}, {"Authorization": f"Basic {wrong}"}, {"Authorization": "Bearer nope"},
                        {"Authorization": "Basic !!!"}, {"Authorization": token}):  # fmt: skip
            assert _post(bare + "/begin", headers)[0] == 401, headers
            status, body = _post(bare + "/end?start=1&end=2&requests=1", headers)
            assert status == 401 and "token" in str(body["error"]), (headers, body)
        assert _post(bare + "/begin", method="GET")[0] == 401
        good = {"Authorization": f"Bearer {token}"}
        assert _post(bare + "/begin", method="GET", headers=good)[0] == 405
        assert _post(bare + "/begin", good) == (200, {})
        for query in ("start=nan&end=2&requests=1", "start=1&end=inf&requests=1", "start=2&end=1&requests=1",
                      "start=1&end=2&requests=-1", "start=1&end=2", "start=x&end=2&requests=1"):  # fmt: skip
            status, body = _post(f"{bare}/end?{query}", good)
            assert status == 400 and "bad query" in str(body["error"]), (query, status, body)
        with pytest.raises(remote.ControlError) as refused:
            remote.Control(bare).begin()  # no credentials and no variable: refused, and told why
        assert "HTTP 401" in str(refused.value) and controlauth.TOKEN_ENV in str(refused.value)
        with pytest.raises(remote.ControlError, match="HTTP 401"):
            remote.Control(f"http://djload:{'y' * 8}@{parts.hostname}:{parts.port}").begin()
        remote.Control(url).begin()  # the URL it printed
        monkeypatch.setenv(controlauth.TOKEN_ENV, token)  # as compose shares it: both sides read the variable
        remote.Control(bare).begin()
        # A method it does not know, a request line it cannot read: http.server's own errors, as JSON too.
        for line, code in ((b"BREW /begin HTTP/1.1", "501"), (b"POST /begin HTTP/1.1 extra", "400")):
            with socket.create_connection((parts.hostname or "", parts.port or 0), timeout=10) as raw:
                raw.sendall(line + b"\r\nHost: x\r\n\r\n")
                answer = raw.makefile("rb").read().decode()
            head, _, body_text = answer.partition("\r\n\r\n")
            assert head.split()[1] == code and "application/json" in head, answer
            assert json.loads(body_text)["error"], answer


def test_a_token_from_the_environment_is_the_endpoints(
    scenario_file: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = load_file(scenario_file(endpoint={"path": "/sync/blocking/"}))
    monkeypatch.setenv(controlauth.TOKEN_ENV, "shared-by-compose")
    with (
        servers.serve(servers.ServerSpec(scenario, tmp_path)) as server,
        remote.control(server, tmp_path, servers.HOST, servers.free_port()) as url,
    ):
        assert urllib.parse.urlsplit(url).password == "shared-by-compose"
        bare = url.replace("djload:shared-by-compose@", "")
        remote.Control(bare).begin()  # the variable, sent as a bearer token
        monkeypatch.setenv(controlauth.TOKEN_ENV, "another")
        with pytest.raises(remote.ControlError, match="HTTP 401"):
            remote.Control(bare).begin()
