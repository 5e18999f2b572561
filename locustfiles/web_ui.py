"""The fixed-count swarm in Locust's web UI, with a "Slide metrics" tab.

The tab shows the slide's five numbers for the current or last run, computed by djload.metrics from
the swarm's own per-request records (the same numbers `djload run` prints), with the talk's numbers
beside them when the scenario has them. Each finished run is saved under --results-dir as
run-N/requests.csv and run-N/summary.json, a summary `djload report` reads like any run's; the same two
files can be downloaded from the tab's links.
"""

import contextlib
import io
import json
import logging
import math
import os
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

# Locust puts this file's folder on sys.path while importing it, so the swarm is imported once, here.
from fixed_count import FixedCountUser  # type: ignore[import-not-found]
from flask import Response, jsonify, request
from locust import events
from locust.env import Environment

from djload import ideal, layout, metrics, records, results, sameorigin, summary
from djload.locust_plugin import recorded, url_path
from djload.servers import masked
from djload.summary import SLIDE_METRICS, Row

__all__ = ["FixedCountUser"]  # the swarm's user class, so that Locust finds it in this file

TAB = "slide_metrics"
DOWNLOADS = (("slide-metrics/summary.json", "slide metrics (JSON)"), ("slide-metrics/requests.csv", "records (CSV)"))
# The Slide metrics tab's download cells as links. Locust's tables draw text only, so a script adds an
# <a href download> beside each URL cell's text, which it empties but keeps: the text node is React's.
LINKS_SCRIPT = r"""<script>
(() => {
  const download = /^https?:\/\/\S+\/slide-metrics\/(summary\.json|requests\.csv)$/;
  const link = () => {
    for (const td of document.querySelectorAll("td")) {
      const texts = [...td.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE);
      const url = texts.map((node) => node.nodeValue).join("").trim();
      if (!download.test(url)) continue;
      texts.forEach((node) => { node.nodeValue = ""; });
      const a = td.querySelector("a") || td.appendChild(document.createElement("a"));
      a.href = url;
      a.download = url.split("/").pop();
      a.textContent = url;
    }
  };
  new MutationObserver(link).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
</script>
"""
finished_runs = 0
running = False  # Locust fires test_stop on the way out even when no run was started
run_started_at = ""


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--asked", default='{"scenario": "web-ui"}', include_in_web_ui=False,
                        help="The scenario's summary row fields (and the talk's numbers), as JSON")  # fmt: skip
    parser.add_argument("--results-dir", default="", include_in_web_ui=False,
                        help="Folder where each finished run is saved as run-N/")  # fmt: skip
    parser.add_argument("--allowed-hosts", default="", include_in_web_ui=False,
                        help="Comma-separated sites a run from the UI may load (empty: any)")  # fmt: skip
    parser.add_argument("--max-users", type=int, default=0, include_in_web_ui=False,
                        help="The most users a run from the UI may start (0: no bound)")  # fmt: skip
    parser.add_argument("--max-requests", type=int, default=0, include_in_web_ui=False,
                        help="The most requests (users × requests per user) a run from the UI may send")  # fmt: skip


MAX_SPAWN_S = 3600.0  # as a scenario's spawn


# What the start form shows: locust's own fields and the swarm's (fixed_count.py, djload.locust_plugin).
FORM_FIELDS = frozenset({"user_count", "spawn_rate", "host", "run_time", "user_classes", "shape_class", "profile",
                         "endpoint", "query", "requests_per_user", "duration"})  # fmt: skip


def hidden_fields(form: Any, options: dict[str, Any]) -> str | None:
    """Locust sets any option the start form names; of djload's, only those the form shows may be set
    (a form naming results_dir, allowed_hosts or max_users would move the run's folder or lift a bound)."""
    hidden = sorted(key for key in form if key in options and key not in FORM_FIELDS)
    return f"the form may not set {', '.join(hidden)}" if hidden else None


def form_problem(form: Any, max_users: int, max_requests: int) -> str | None:
    """What is wrong with the numbers of the UI's start form, as a scenario file's are checked; None if fine.
    The form is free text: without this, 1000000000 users would be started as asked."""
    values: dict[str, float] = {}
    for key, kind, low in (("user_count", int, 1), ("spawn_rate", float, 0), ("requests_per_user", int, 1),
                           ("duration", float, 0)):  # fmt: skip
        text = form.get(key)
        if text is None:
            continue
        try:
            value = kind(text) if len(text) <= 20 else math.inf
        except ValueError:
            return f"{key}: must be {'a whole number' if kind is int else 'a number'}, got {text[:20]!r}"
        if not (math.isfinite(value) and value >= low) or key == "spawn_rate" and value <= 0:
            return f"{key}: must be a finite number {'above' if key == 'spawn_rate' else 'of at least'} {low}"
        values[key] = value
    users = values.get("user_count", 1)
    if max_users and users > max_users:
        return f"user_count: {users:,.0f} users; at most {max_users:,} (djload ui --i-know-its-huge allows more)"
    if max_requests and users * values.get("requests_per_user", 1) > max_requests:
        return f"user_count × requests_per_user: more than {max_requests:,} requests"
    if users / values.get("spawn_rate", users) > MAX_SPAWN_S or values.get("duration", 0) > MAX_SPAWN_S:
        return f"the spawn and the duration may take at most {MAX_SPAWN_S:g} s each"
    return None


def summary_row(environment: Environment) -> Row:
    """The current or last run as `djload run` writes a row: the scenario's fields, with what the form changed."""
    options: Any = environment.parsed_options
    users, per_user = int(options.num_users), int(options.requests_per_user)
    asked = summary.Asked.from_json(json.loads(options.asked), "--asked")
    asked = replace(asked, endpoint=url_path(options), users=users, requests_per_user=per_user,
                    expected_requests=users * per_user, locust_processes=1)  # fmt: skip
    row = Row(asked, facts(options, environment.host))
    runs = recorded()
    row.measured.update(metrics.summarize(runs))
    row.measured.update(metrics.view_split(runs))
    row.measured.latency_histogram = metrics.histogram([r.latency_ms for r in runs])
    row.ideal.update(ideal.compare(row.to_json()))
    row.status = summary.Status.judged(row.measured.completed_requests or 0, row.measured.total_errors or 0,
                                       asked.expected_requests)  # fmt: skip
    return row


@cache
def _machine() -> dict[str, Any]:
    return results.machine_metadata()


def facts(options: Any, host: str | None) -> summary.Facts:
    """What `djload run` records of a run, as far as this process knows it."""
    lines = Path(options.results_dir, "command-lines.txt") if options.results_dir else None
    server = ""
    if lines and lines.is_file():
        server = next(
            (line[len("server: ") :] for line in lines.read_text().splitlines() if line.startswith("server: ")), ""
        )
    return summary.Facts(
        started_at=run_started_at,
        cpu_placement={"generator": sorted(os.sched_getaffinity(0))},
        machine=_machine(),
        server_command=server.split() if server else None,
        locust_command=[sys.executable, "-m", "locust", *sys.argv[1:]],
        target=masked(host) if host else None,  # a --target's password is not for the record
    )


def summary_json(environment: Environment) -> str:
    """summary.json of the current or last run: a list of one row, as `djload run` writes them."""
    return json.dumps([summary_row(environment).to_json()], indent=2) + "\n"


def slide_rows(environment: Environment) -> list[dict[str, str]]:
    row = summary_row(environment)
    rows = [
        {"metric": m.label, "this_run": m.cell(row.value(m.key)), "talk": m.cell(row.asked.expected.get(m.key))}
        for m in SLIDE_METRICS
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
    folder = layout.scenario_dir(Path(results_dir), f"run-{finished_runs}")  # proven inside the results folder
    try:
        folder.mkdir()
        results.write_text(folder / "requests.csv", records_csv())
        summary.write(folder / summary.SUMMARY_JSON, [summary_row(environment)])
    except OSError as exc:
        # One line in the log, and the UI stays up; what was written whole stays, marked.
        logging.error("djload: %s: this run could not be saved: %s", folder, exc.strerror)
        with contextlib.suppress(OSError), (folder / results.INCOMPLETE).open("w") as note:
            note.write(f"{exc.strerror}\n")


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
    def same_origin_only() -> Response | None:
        # First: no form of another site's page starts a swarm (djload.sameorigin).
        options: Any = environment.parsed_options
        headers = request.headers
        host = headers.get("Host", "")
        if problem := sameorigin.refusal(request.method, request.scheme, host, headers.get("Origin"),
                                         headers.get("Referer"), options.web_host, options.web_port):  # fmt: skip
            response = jsonify({"success": False, "message": problem})
            response.status_code = 403
            return response
        return None

    @app.before_request
    def only_allowed_hosts() -> Response | None:
        options: Any = environment.parsed_options
        allowed = [url for url in options.allowed_hosts.split(",") if url]
        if request.path.endswith("/swarm") and (
            problem := hidden_fields(request.form, vars(options))
            or form_problem(request.form, options.max_users, options.max_requests)
        ):
            return jsonify({"success": False, "message": problem, "host": environment.host})
        host = request.form.get("host", "").rstrip("/") if request.path.endswith("/swarm") else ""
        if host and allowed and host not in allowed:
            # The sites may carry a user and password (--target http://user:pass@host): never shown.
            message = f"{masked(host)} is not a site djload checked; use one of: {', '.join(map(masked, allowed))}"
            return jsonify({"success": False, "message": message, "host": environment.host})
        return None

    @app.after_request
    def add_slide_metrics(response: Response) -> Response:
        if request.path.endswith("/stats/requests") and response.is_json:
            extended = [{"key": TAB, "data": slide_rows(environment)}]
            response.set_data(json.dumps({**(response.json or {}), "extended_stats": extended}))
        return response

    @app.after_request
    def link_downloads(response: Response) -> Response:
        # Locust's tables show text only: on the UI's page, a script turns the download URLs into links.
        if response.mimetype == "text/html" and not response.direct_passthrough:
            page = response.get_data(as_text=True)
            if "</body>" in page:
                response.set_data(page.replace("</body>", LINKS_SCRIPT + "</body>", 1))
        return response

    @app.route("/slide-metrics/summary.json")
    def download_summary() -> Response:
        return _download(summary_json(environment), "application/json", "summary.json")

    @app.route("/slide-metrics/requests.csv")
    def requests_csv() -> Response:
        return _download(records_csv(), "text/csv", "requests.csv")


def _download(body: str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})
