"""The fixed-count swarm in Locust's web UI, with a "Slide metrics" tab.

The tab shows the slide's five numbers for the current or last run, computed by djload.metrics from
the swarm's own per-request records (the same numbers `djload run` prints), with the talk's numbers
beside them when the scenario has them. Each finished run is saved under --results-dir as
run-N/requests.csv and run-N/summary.json; the same two files can be downloaded from the UI.
"""

import io
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

# Locust puts this file's folder on sys.path while importing it, so the swarm is imported once, here.
from fixed_count import FixedCountUser  # type: ignore[import-not-found]
from flask import Response, jsonify, request
from locust import events
from locust.env import Environment

from djload import metrics, records, results
from djload.locust_plugin import recorded, url_path

__all__ = ["FixedCountUser"]  # the swarm's user class, so that Locust finds it in this file

TAB = "slide_metrics"
SLIDE = (
    ("completed_requests", "Completed requests", "{:.0f}"),
    ("total_errors", "Total errors", "{:.0f}"),
    ("total_time_s", "Total time", "{:.3f} s"),
    ("mean_latency_ms", "Mean latency", "{:.1f} ms"),
    ("effective_rps", "Effective RPS", "{:.2f}"),
)
DOWNLOADS = (("slide-metrics/summary.json", "slide metrics (JSON)"), ("slide-metrics/requests.csv", "records (CSV)"))
finished_runs = 0
running = False  # Locust fires test_stop on the way out even when no run was started
run_started_at = ""


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--expected", default="{}", include_in_web_ui=False,
                        help="The talk's numbers for this scenario, as JSON")  # fmt: skip
    parser.add_argument("--results-dir", default="", include_in_web_ui=False,
                        help="Folder where each finished run is saved as run-N/")  # fmt: skip
    parser.add_argument("--allowed-hosts", default="", include_in_web_ui=False,
                        help="Comma-separated sites a run from the UI may load (empty: any)")  # fmt: skip


def summary(environment: Environment) -> dict[str, Any]:
    options: Any = environment.parsed_options
    return {
        "host": environment.host,
        "endpoint": url_path(options),
        "users": options.num_users,
        "requests_per_user": options.requests_per_user,
        **metrics.summarize(recorded()),
        "expected": json.loads(options.expected),
        "metadata": metadata(options),
    }


@cache
def _machine() -> dict[str, Any]:
    return results.machine_metadata()


def metadata(options: Any) -> dict[str, Any]:
    """What `djload run` records in each entry's metadata, as far as this process knows it."""
    lines = Path(options.results_dir, "command-lines.txt") if options.results_dir else None
    server = ""
    if lines and lines.is_file():
        server = next(
            (line[len("server: ") :] for line in lines.read_text().splitlines() if line.startswith("server: ")), ""
        )
    return {
        **_machine(),
        "started_at": run_started_at,
        "cpu_placement": {"generator": sorted(os.sched_getaffinity(0))},
        "server_command": server.split() if server else None,
        "locust_command": [sys.executable, "-m", "locust", *sys.argv[1:]],
    }


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def slide_rows(environment: Environment) -> list[dict[str, str]]:
    result = summary(environment)
    rows = [
        {"metric": title, "this_run": _cell(result[key], fmt), "talk": _cell(result["expected"].get(key), fmt)}
        for key, title, fmt in SLIDE
    ]
    links = [
        {"metric": f"Download {title}", "this_run": request.host_url + href, "talk": ""} for href, title in DOWNLOADS
    ]
    return rows + links


def records_csv() -> str:
    text = io.StringIO()
    records.dump(recorded(), text)
    return text.getvalue()


@events.test_start.add_listener
def run_started(**_: Any) -> None:
    global running, run_started_at
    running = True
    run_started_at = results.now_iso()


@events.test_stop.add_listener
def save_run(environment: Environment, **_: Any) -> None:
    global finished_runs, running
    options: Any = environment.parsed_options
    results_dir = options.results_dir
    if not results_dir or not running:
        return
    running = False
    finished_runs += 1
    folder = Path(results_dir) / f"run-{finished_runs}"
    folder.mkdir()
    (folder / "requests.csv").write_text(records_csv())
    (folder / "summary.json").write_text(json.dumps(summary(environment), indent=2) + "\n")


@events.init.add_listener
def extend_web_ui(environment: Environment, **_: Any) -> None:
    web_ui = environment.web_ui
    if not web_ui or not web_ui.app:  # headless, or a worker
        return
    app = web_ui.app
    # update_template_args() merges into these, so the tab is on every page, "/" included.
    web_ui.template_args.update(
        extended_tabs=[{"title": "Slide metrics", "key": TAB}],
        extended_tables=[
            {
                "key": TAB,
                "structure": [
                    {"key": "metric", "title": "Metric"},
                    {"key": "this_run", "title": "This run"},
                    {"key": "talk", "title": "Talk"},
                ],
            }
        ],
        extended_csv_files=[{"href": href, "title": title} for href, title in DOWNLOADS],
    )

    @app.before_request
    def only_allowed_hosts() -> Response | None:
        options: Any = environment.parsed_options
        allowed = [url for url in options.allowed_hosts.split(",") if url]
        host = request.form.get("host", "").rstrip("/") if request.path.endswith("/swarm") else ""
        if host and allowed and host not in allowed:
            message = f"{host} is not a site djload checked; use one of: {', '.join(allowed)}"
            return jsonify({"success": False, "message": message, "host": environment.host})
        return None

    @app.after_request
    def add_slide_metrics(response: Response) -> Response:
        if request.path.endswith("/stats/requests") and response.is_json:
            extended = [{"key": TAB, "data": slide_rows(environment)}]
            response.set_data(json.dumps({**(response.json or {}), "extended_stats": extended}))
        return response

    @app.route("/slide-metrics/summary.json")
    def summary_json() -> Response:
        return _download(json.dumps(summary(environment), indent=2), "application/json", "summary.json")

    @app.route("/slide-metrics/requests.csv")
    def requests_csv() -> Response:
        return _download(records_csv(), "text/csv", "requests.csv")


def _download(body: str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})
