"""The report: a short real matrix run writes report.html, which a real headless chromium loads cleanly."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from djload import figures, records, report
from djload.records import Record
from djload.summary import Row
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.helpers import djload

SLEEP = 0.2


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short real matrix: one WSGI sync worker and ASGI, the blocking sync view, 6 requests at once."""
    folder = tmp_path_factory.mktemp("matrix")
    scenario = folder / "modes.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "sleep": SLEEP,
                "swarm": {"users": 6},
                "endpoint": {"path": "/sync/blocking/"},
                "matrix": {"server.mode": ["wsgi", "asgi"]},
            }
        )
    )
    done = djload("run", scenario, "--out", folder / "out")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "\x1b[" not in done.stderr, "no progress bar when stderr is not a terminal"
    return folder / "out"


def by_name(folder: Path) -> dict[str, dict[str, Any]]:
    return {entry["scenario"]: entry for entry in json.loads((folder / "summary.json").read_text())}


def test_matrix_run_measures_serialisation_and_the_ideal_beside(matrix_run: Path) -> None:
    results = by_name(matrix_run)
    wsgi, asgi = results["modes-wsgi"], results["modes-asgi"]
    assert wsgi["matrix"] == {"group": "modes", "values": {"server.mode": "wsgi"}}
    # Physics, generous bounds: one sync worker lets one request in at a time; ASGI a thread per request.
    assert wsgi["ideal_total_time_s"] == pytest.approx(6 * SLEEP)
    assert wsgi["total_time_s"] >= 0.9 * 6 * SLEEP
    assert (wsgi["peak_in_view"], wsgi["log_peak_in_view"], wsgi["log_distinct_threads"]) == (1, 1, 1)
    assert asgi["ideal_total_time_s"] == pytest.approx(SLEEP)
    assert asgi["log_peak_in_view"] == 6 and asgi["peak_in_view"] == 6
    assert asgi["log_distinct_threads"] == 6 and asgi["view_threads"] == 6
    # Under WSGI the last request queues for about five sleeps; under ASGI nobody waits for a view.
    assert wsgi["mean_queue_ms"] > 1.5 * SLEEP * 1000
    assert asgi["mean_queue_ms"] < 0.5 * SLEEP * 1000
    assert isinstance(wsgi["deviates_from_ideal"], bool)
    for name in results:
        assert (matrix_run / "figures" / f"timeline-{name}.png").stat().st_size > 1000
    markdown = (matrix_run / "report.md").read_text()
    assert "| modes-wsgi | wsgi | /sync/blocking/ | completed | 6 | 0 |" in markdown
    assert "figures/timeline-modes-wsgi.png" in markdown


def test_report_html_is_self_contained_and_renders_in_chromium(matrix_run: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    page_html = (matrix_run / "report.html").read_text()
    assert "<script" not in page_html
    links = re.findall(r'(?:src|href)="([^"]*)"', page_html)
    assert links and all(link.startswith("data:") for link in links), links
    assert 'src="data:image/png;base64,' in page_html

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto((matrix_run / "report.html").as_uri(), wait_until="load")
            assert errors == []
            assert all(url.startswith(("file:", "data:")) for url in requests), requests
            assert page.locator("h1").inner_text().startswith("djload report")
            first_table = page.locator("table").first
            assert "modes-wsgi" in first_table.inner_text() and "modes-asgi" in first_table.inner_text()
            sizes = page.eval_on_selector_all("img", "images => images.map(i => [i.naturalWidth, i.naturalHeight])")
            # RPS bars and one timeline per scenario, every one decoded to a real picture.
            assert len(sizes) == 3
            assert all(width > 100 and height > 50 for width, height in sizes), sizes
        finally:
            browser.close()


def test_djload_report_rewrites_the_report_of_a_folder(matrix_run: Path) -> None:
    (matrix_run / "report.html").unlink()
    done = djload("report", matrix_run)
    assert done.returncode == 0, done.stderr
    assert (matrix_run / "report.html").is_file()
    assert djload("report", matrix_run / "missing").returncode == 2


def series(label: str, rps: list[float]) -> figures.Series:
    times = [10**k for k in range(1, len(rps) + 1)]
    return figures.Series(
        label, times, rps, [1000 / r for r in rps], [None] * len(rps), [None] * len(rps), [False] * len(rps)
    )


def test_crossover_is_found_between_the_points_where_the_lead_changes() -> None:
    text = report.crossovers(series("a", [100, 80, 10]), series("b", [50, 80.0001, 20]))
    assert "b takes the lead between times=10 and 100" in text
    steady = report.crossovers(series("a", [200, 100, 10]), series("b", [100, 50, 5]))
    assert "no crossover" in steady and "a leads b throughout, by 100% to 100% in RPS" in steady


def test_sweep_is_recognised_from_computation_endpoints() -> None:
    def run(mode: str, path: str, times: int, rps: float) -> report.Run:
        entry = {
            "scenario": f"{mode}-{times}", "server_mode": mode, "workers": 1, "threads": 1, "status": "completed",
            "endpoint": f"{path}?times={times}", "effective_rps": rps, "mean_latency_ms": 10.0,
        }  # fmt: skip
        return report.Run(Row.from_json(entry, "test"), [Record(0.0, 1.0, 200, 1)])

    runs = [run("wsgi", "/sync/computation/", t, 100.0) for t in (10, 100, 1000)]
    runs += [run("asgi", "/async/computation/", t, 50.0) for t in (10, 100, 1000)]
    found = report.sweep_series(runs)
    assert [(s.label, s.times) for s in found] == [
        ("wsgi · sync view", [10, 100, 1000]),
        ("asgi · async view", [10, 100, 1000]),
    ]
    assert report.sweep_series(runs[:2]) == []


def test_a_repeated_scenario_is_drawn_from_its_median_run(tmp_path: Path) -> None:
    entry = {
        "scenario": "s", "server_mode": "wsgi", "workers": 1, "threads": 1, "endpoint": "/sync/blocking/",
        "users": 1, "requests_per_user": 1, "sleep_s": 0.1, "status": "completed", "effective_rps": 5.0,
        "runs": [{"run": 1, "effective_rps": 9.0}, {"run": 2, "effective_rps": 5.1}, {"run": 3, "effective_rps": 1.0}],
    }  # fmt: skip
    (tmp_path / "summary.json").write_text(json.dumps([entry]))
    for n in (1, 2, 3):
        (tmp_path / "s" / f"run-{n}").mkdir(parents=True)
        records.write(tmp_path / "s" / f"run-{n}" / "requests.csv", [Record(float(n), 100.0, 200, 1)] * n)
    (run,) = report.load_run(tmp_path)
    assert [r.start for r in run.records] == [2.0, 2.0]


def test_report_of_an_interrupted_run_with_scenarios_never_started(tmp_path: Path) -> None:
    started = {
        "scenario": "a", "server_mode": "wsgi", "workers": 1, "threads": 1, "endpoint": "/sync/blocking/",
        "users": 2, "requests_per_user": 1, "expected_requests": 2, "sleep_s": 0.1, "status": "interrupted",
        "problem": "interrupted by SIGINT",
    }  # fmt: skip
    never = started | {"scenario": "b", "problem": "not started: interrupted by SIGINT"}
    (tmp_path / "summary.json").write_text(json.dumps([started, never]))
    (tmp_path / "a").mkdir()
    records.write(tmp_path / "a" / "requests.csv", [Record(1.0, 100.0, 200, 1, "", 7, 7, 1.001, 99.0)])
    report.write(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "| a | wsgi | /sync/blocking/ | interrupted |" in text and "| b | wsgi |" in text
    assert (tmp_path / "figures" / "timeline-a.png").is_file()
    assert not (tmp_path / "figures" / "timeline-b.png").exists()
