"""`djload ui` end to end in a real headless browser: start a run, read the Slide metrics tab."""

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect, sync_playwright

from djload import metrics, records
from djload.servers import free_port
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ScenarioFactory, new_results
from tests.helpers import djload

SLEEP = 0.2
TALK = {"completed_requests": 10, "total_time_s": 2.037, "mean_latency_ms": 2024.5, "effective_rps": 5}


def wait_for_line(process: subprocess.Popen[str], prefix: str, timeout_s: float = 60) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no line starting {prefix!r}; exit code {process.poll()}")


@contextmanager
def djload_ui(scenario: Path, out: Path) -> Iterator[str]:
    """`djload ui` running until the block ends (then Ctrl-C, as a person would); yields the UI's URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "djload.cli", "ui", str(scenario), "--web-port", str(free_port()), "--out", str(out)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield wait_for_line(process, "Locust web UI: ").split()[3]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130


def state(url: str) -> str:
    with urllib.request.urlopen(url + "stats/requests", timeout=10) as response:
        return str(json.load(response)["state"])


def start_with_host(url: str, host: str) -> dict[str, Any]:
    form = urllib.parse.urlencode({"user_count": 1, "spawn_rate": 1, "host": host}).encode()
    with urllib.request.urlopen(url + "swarm", data=form, timeout=10) as response:
        return dict(json.load(response))


def slide_metrics(page: Page) -> dict[str, str]:
    page.get_by_role("tab", name="Slide metrics").click()
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    cells = [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]
    return {metric: this_run for metric, this_run, _talk in cells}


def test_a_run_from_the_web_ui_shows_the_slide_metrics(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    out = tmp_path / "ui"
    with djload_ui(scenario_file(expected=TALK), out) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            # The form comes prefilled from the scenario: 10 users, all at once, the site's URL.
            expect(page.get_by_label("Number of users")).to_have_value("10")
            assert start_with_host(url, "http://127.0.0.2:9")["success"] is False  # not the site djload booted
            assert state(url) == "ready"
            page.get_by_role("button", name="Start").click()
            deadline = time.monotonic() + 60
            while state(url) != "stopped":  # the fixed count stops by itself
                assert time.monotonic() < deadline, "the run did not stop by itself"
                time.sleep(0.2)
            page.reload()
            shown = slide_metrics(page)
            talk = page.locator("table tbody tr").first.locator("td").last.inner_text()
            # The downloads are links, not text to copy.
            links = {name: page.get_by_role("link", name=re.compile(name)) for name in ("summary.json", "requests.csv")}
            for name, link in links.items():
                expect(link).to_have_attribute("href", re.compile(f"/slide-metrics/{re.escape(name)}$"))
            with urllib.request.urlopen(url + "slide-metrics/summary.json", timeout=10) as response:
                downloaded = json.load(response)
        finally:
            browser.close()

    assert sorted(p.name for p in out.glob("run-*")) == ["run-1"]  # nothing for the session's end
    run = out / "run-1"
    rows = json.loads((run / "summary.json").read_text())
    assert downloaded == rows  # a list of rows, as `djload run` writes them
    (summary,) = rows
    assert summary == {**summary, **metrics.summarize(records.read(run / "requests.csv"))}
    assert summary["schema_version"] == 1 and summary["status"] == "completed" and summary["scenario"] == "short"
    meta = summary["metadata"]  # what `djload run` records too
    assert meta["versions"]["locust"] and meta["cpu_model"] and meta["started_at"] and meta["git_revision"]
    assert meta["server_command"][1:3] == ["-m", "gunicorn"] and "--web-port" in meta["locust_command"]
    assert summary["completed_requests"] == 10 and summary["total_errors"] == 0
    assert summary["total_time_s"] < 2 * SLEEP
    assert shown["Completed requests"] == "10"
    assert shown["Total errors"] == "0"
    assert shown["Total time"] == f"{summary['total_time_s']:.3f} s"
    assert shown["Mean latency"] == f"{summary['mean_latency_ms']:.1f} ms"
    assert shown["Effective RPS"] == f"{summary['effective_rps']:.2f}"
    assert talk == "10"

    # `djload report` reads a web UI run like any run.
    done = djload("report", run)
    assert done.returncode == 0, done.stderr
    markdown = (run / "report.md").read_text()
    assert "| short | asgi | /async/non-blocking/ | completed | 10 | 0 |" in markdown
    assert (run / "report.html").is_file() and (run / "figures" / "timeline-short.png").is_file()


def test_a_busy_web_port_or_a_remote_web_host_is_refused_before_anything_starts(
    scenario_file: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario_file()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        done = djload("ui", path, "--web-port", port, "--out", tmp_path / "out")
    assert (done.returncode, done.stderr.strip()) == (
        3,
        f"djload: cannot listen on 127.0.0.1:{port}: Address already in use",
    )
    done = djload("ui", path, "--web-host", "0.0.0.0", "--out", tmp_path / "out")
    assert done.returncode == 2 and "not a loopback address" in done.stderr
    assert not (tmp_path / "out").exists()


def _post_swarm(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    form = urllib.parse.urlencode({"user_count": 1, "spawn_rate": 1}).encode()
    request = urllib.request.Request(url + "swarm", data=form, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(json.load(response))
    except urllib.error.HTTPError as refused:
        return refused.code, dict(json.load(refused))


def test_a_post_from_another_origin_is_refused(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """As Django's CSRF check: an Origin (else a Referer) that is not the UI's own address is a 403, and a
    Host the UI does not listen as (a rebound DNS name) is too; no swarm starts."""
    with djload_ui(scenario_file(), tmp_path / "ui") as url:
        own = url.rstrip("/")
        port = urllib.parse.urlsplit(url).port
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},  # a sandboxed frame or a file:// page
            {"Origin": own.replace("127.0.0.1", "localhost")},  # another origin of the same machine
            {"Origin": own.replace("http:", "https:")},
            {"Referer": "http://evil.example/page.html"},
            {"Referer": "http://evil.example/page.html", "Origin": "http://evil.example"},
            {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},  # DNS rebinding
            {"Host": f"127.0.0.1:{(port or 0) + 1}", "Origin": f"http://127.0.0.1:{(port or 0) + 1}"},
        ):
            status, body = _post_swarm(url, headers)
            assert status == 403 and body["success"] is False and "refused" in body["message"], (headers, body)
        assert state(url) == "ready"  # nothing started
        # Its own page's form sends its own Origin (and Referer): the swarm starts.
        status, body = _post_swarm(url, {"Origin": own, "Referer": url})
        assert status == 200 and body["success"] is True, body
        deadline = time.monotonic() + 30
        while state(url) not in ("stopped", "ready") and time.monotonic() < deadline:
            time.sleep(0.2)
    assert list((tmp_path / "ui").glob("run-*"))


def test_a_session_without_a_run_saves_no_run(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    with djload_ui(scenario_file(), tmp_path / "ui") as url:
        assert state(url) == "ready"
    assert (tmp_path / "ui" / "locust.log").exists() and not list((tmp_path / "ui").glob("run-*"))


def test_the_ui_never_shows_a_targets_password(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    """`djload ui --target` with a user and password: the UI's refusal of another host lists the checked
    site without its password, and the folder's command lines do not hold it either."""
    scenario = scenario_file()
    port = free_port()
    out = tmp_path / "ui"
    with new_results(), (tmp_path / "site.log").open("wb") as log:  # serve's own folder goes under results/
        site = subprocess.Popen(
            [sys.executable, "-m", "djload.cli", "serve", str(scenario), "--port", str(port)], stdout=log, stderr=log
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "djload.cli", "ui", str(scenario), "--web-port", str(free_port()),
             "--out", str(out), "--target", f"asgi=http://user:s3cret@127.0.0.1:{port}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            url = wait_for_line(process, "Locust web UI: ").split()[3]
            refused = start_with_host(url, "http://127.0.0.2:9")
        finally:
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
            site.send_signal(signal.SIGINT)
            site.wait(timeout=30)
    assert refused["success"] is False
    assert f"http://user:***@127.0.0.1:{port}" in refused["message"] and "s3cret" not in refused["message"]
    assert "s3cret" not in stdout + stderr
    assert "user:***@" in (out / "command-lines.txt").read_text()
    assert "s3cret" not in (out / "command-lines.txt").read_text()
