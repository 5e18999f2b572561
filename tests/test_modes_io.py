"""The servers people pick instead: each boots and overlaps (or serialises) requests as its physics says.

Ten requests at once, each view waiting SLEEP seconds: overlapped they take about one SLEEP, serialised
ten. The bounds are halfway and beyond, physical facts rather than machine speed.
"""

import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from djload import ideal, servers
from djload.scenario import Endpoint, Scenario, Server, Swarm

SLEEP = 0.5
REQUESTS = 10


def _burst(base_url: str, path: str) -> tuple[float, set[str]]:
    """Seconds for REQUESTS requests sent at once, and the threads that served them."""

    def get(_: int) -> str:
        with servers.NO_PROXY.open(base_url + path, timeout=60) as response:
            assert response.status == 200
            return str(response.headers["X-Thread-Id"])

    began = time.monotonic()
    with ThreadPoolExecutor(REQUESTS) as pool:
        threads = set(pool.map(get, range(REQUESTS)))
    return time.monotonic() - began, threads


@pytest.mark.parametrize(
    ("mode", "path", "overlaps"),
    [
        ("wsgi-gevent", "/sync/blocking/", True),  # time.sleep is patched: it yields to the hub
        ("granian-asgi", "/async/non-blocking/", True),
        ("granian-asgi", "/sync/blocking/", True),  # Django's ASGI handler: a thread per request
        ("hypercorn", "/async/non-blocking/", True),
        ("hypercorn", "/async/blocking/", False),  # time.sleep stalls the one event loop
        ("granian-wsgi", "/sync/blocking/", False),  # one blocking thread: one request at a time
    ],
)
def test_each_new_mode_overlaps_as_its_physics_says(mode: str, path: str, overlaps: bool, tmp_path: Path) -> None:
    scenario = Scenario("modes", Server(mode), Endpoint(path), Swarm(REQUESTS), sleep=SLEEP)
    model = ideal.ideal(mode, 1, 1, path, REQUESTS, 1, SLEEP)
    assert model is not None and (model.slots is None or model.slots >= REQUESTS) == overlaps
    with servers.serve(servers.ServerSpec(scenario, tmp_path)) as server:
        servers.warm_up(server.base_url, path, 1, 30)
        took, _ = _burst(server.base_url, path)
    if overlaps:
        assert took < REQUESTS * SLEEP / 2, took
    else:
        assert took > REQUESTS * SLEEP * 0.9, took
    assert "starting" in (tmp_path / "server.log").read_text()


def test_granian_wsgi_threads_are_its_blocking_threads(tmp_path: Path) -> None:
    scenario = Scenario(
        "modes", Server("granian-wsgi", threads=REQUESTS), Endpoint("/sync/blocking/"), Swarm(1), sleep=SLEEP
    )
    assert servers.command(scenario, 8000, tmp_path / "a.log")[-3:-1] == ["--blocking-threads", str(REQUESTS)]
    with servers.serve(servers.ServerSpec(scenario, tmp_path)) as server:
        took, threads = _burst(server.base_url, "/sync/blocking/")
    assert took < REQUESTS * SLEEP / 2, took
    assert len(threads) > 1


def test_gevent_async_views_fail_when_they_overlap(tmp_path: Path) -> None:
    """Django's WSGI handler runs an async view in an event loop through async_to_sync; a gevent worker's
    greenlets share one OS thread, where asgiref refuses a second running loop."""
    scenario = Scenario("modes", Server("wsgi-gevent"), Endpoint("/async/non-blocking/"), Swarm(1), sleep=SLEEP)
    model = ideal.ideal("wsgi-gevent", 1, 1, "/async/non-blocking/", REQUESTS, 1, SLEEP)
    assert model is not None and model.slots == 1

    def status(_: int) -> int:
        try:
            with servers.NO_PROXY.open(server.base_url + "/async/non-blocking/", timeout=60) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code

    with servers.serve(servers.ServerSpec(scenario, tmp_path)) as server:
        assert status(0) == 200  # alone it is served
        with ThreadPoolExecutor(REQUESTS) as pool:
            statuses = list(pool.map(status, range(REQUESTS)))
    assert 500 in statuses and 200 in statuses, statuses
    assert (
        "You cannot use AsyncToSync in the same thread as an async event loop" in (tmp_path / "server.log").read_text()
    )
