"""The upstream the HTTP views call: holds hundreds of waiting requests at once, and stops with its group."""

import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from djload import servers, upstream


def _get(url: str) -> bytes:
    with servers.NO_PROXY.open(url, timeout=30) as response:
        data: bytes = response.read()
        return data


def test_the_upstream_holds_hundreds_of_waiting_requests(tmp_path: Path) -> None:
    with upstream.running(tmp_path) as up:
        assert up.url.startswith("http://127.0.0.1:")
        pid = up.process.pid
        requests = 200
        began = time.monotonic()
        with ThreadPoolExecutor(requests) as pool:
            answers = list(pool.map(_get, [up.url + "/?sleep=1"] * requests))
        took = time.monotonic() - began
        assert answers == [b"upstream waited 1 s\n"] * requests
        # Serialised they would take 200 s; all waiting at once, about one sleep (threads start slowly
        # on a loaded machine, hence the margin).
        assert took < 10, took
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(up.url + "/?sleep=-1")
        assert refused.value.code == 400
        refused.value.close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_an_upstream_that_cannot_start_is_a_boot_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream, "command", lambda port, host=servers.HOST: ["false"])
    with pytest.raises(servers.BootError, match="the upstream exited with code 1"), upstream.running(tmp_path):
        pass
