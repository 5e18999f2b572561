"""A run's report: report.md and a self-contained report.html, from its summary rows and raw records.

The pictures are drawn by djload.figures (matplotlib, Agg backend).
"""

import base64
import html
import itertools
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from djload import (
    answers,
    capacityreport,
    compare,
    console,
    figures,
    ideal,
    metrics,
    records,
    serverlog,
    significance,
    summary,
)
from djload.costreport import DIAGNOSIS_INTRO, MEMORY_HEADERS, MEMORY_INTRO, diagnosis_lines, memory_rows
from djload.layout import FIGURES, REPORT_HTML, REPORT_MD
from djload.modes import MODES
from djload.records import Record
from djload.sites import View, Work, of_row
from djload.summary import LATENCY_METRICS, METRICS, SLIDE_METRICS, Row, cell, percent

# ---- report.md and report.html -------------------------------------------------------------------------
# Both are rendered from one list of sections, so they always say the same thing. Pictures are PNG
# files under figures/ for the markdown and base64 data inside the HTML, which needs no other file.

# The report stays quick and small whatever the run's size (a matrix may hold thousands of scenarios):
# past these, per-scenario pictures give way to summaries. A timeline takes about 0.3 s and 50 kB to
# draw; a bar is 0.28 inch of the RPS picture; the tables' command lines repeat per scenario.
MAX_TIMELINES = 24
MAX_BARS = 60
MAX_COMMAND_ROWS = 60


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Picture:
    name: str  # file name under figures/
    alt: str
    png: bytes


Block = str | Table | Picture


@dataclass(frozen=True)
class Section:
    title: str
    blocks: list[Block]


@dataclass
class Run:
    """One scenario's summary row with its raw records, as the report needs them."""

    row: Row
    records: list[Record]


def enrich(row: Row, recs: list[Record], scenario_dir: Path) -> Row:
    """The row plus the derived numbers (ideal, queue/service split, log analysis) it lacks, computed by
    the same functions `djload run` uses, so that the report of an older run says the same."""
    if recs and row.measured.requests_per_worker is None:
        row.measured.update(metrics.view_split(recs))
    if row.measured.log_peak_in_view is None:
        row.measured.update(serverlog.read(scenario_dir / "server.log").as_summary())
    row.ideal.update(ideal.compare(row.to_json()))  # pure and cheap: always the current model
    return row


def load_run(folder: Path) -> list[Run]:
    rows = summary.read_folder(folder)
    # Records are kept only where they are drawn; a big matrix's are read only to fill what a row lacks.
    keep = len(rows) <= MAX_TIMELINES
    runs = []
    for row in rows:
        scenario_dir = summary.records_folder(folder, row)
        csv_path = scenario_dir / "requests.csv"
        needed = keep or row.measured.requests_per_worker is None
        recs = records.read(csv_path) if needed and csv_path.is_file() else []
        runs.append(Run(enrich(row, recs, scenario_dir), recs if keep else []))
    return runs


def _server_label(row: Row) -> str:
    mode, workers, threads = row.asked.server_mode or "?", row.asked.workers, row.asked.threads
    label = f"{mode} ×{workers}" if workers and workers != 1 else str(mode)
    mode_row = MODES.get(str(mode))
    return label + (f" ({threads} threads)" if mode_row and mode_row.uses_threads else "")


# The talk's numbers shown beside the measured ones: those its slide gives for every scenario.
TALK_METRICS = tuple(m for m in SLIDE_METRICS if m.key in ("total_time_s", "mean_latency_ms", "effective_rps"))


def slide_table(runs: list[Run]) -> Table:
    headers = ["scenario", "server", "endpoint", "status"] + [metric.column for metric in SLIDE_METRICS]
    headers += ["talk: total / mean / RPS", "ideal: total / mean", "vs ideal: total / mean", "deviates > 10%"]
    rows = []
    for run in runs:
        row, talk, model = run.row, run.row.asked.expected, run.row.ideal
        talk_cell = " / ".join(metric.cell(talk.get(metric.key)) for metric in TALK_METRICS) if talk else "-"
        has_ideal = model.ideal_total_time_s is not None
        rows.append([
            row.name, _server_label(row), row.asked.endpoint, row.status.status,
            *(metric.cell(row.value(metric.key)) for metric in SLIDE_METRICS), talk_cell,
            f"{cell(model.ideal_total_time_s, '{:.3f} s')} / {cell(model.ideal_mean_latency_ms, '{:.1f} ms')}"
            if has_ideal else "-",
            f"{percent(row.measured.total_time_s, model.ideal_total_time_s)} / "
            f"{percent(row.measured.mean_latency_ms, model.ideal_mean_latency_ms)}" if has_ideal else "-",
            {True: "YES", False: "no", None: "-"}[model.deviates_from_ideal],
        ])  # fmt: skip
    return Table(headers, rows)


def distribution_table(runs: list[Run]) -> Table:
    """Each scenario's latency percentiles, from its exact per-request records."""
    columns = LATENCY_METRICS + (METRICS["mean_latency_ms"],)
    return Table(
        ["scenario"] + [metric.column for metric in columns],
        [[run.row.name] + [metric.cell(run.row.value(metric.key)) for metric in columns] for run in runs],
    )


def by_request_table(runs: list[Run]) -> Table | None:
    """Each entry of the scenarios' mixes; None when no scenario has one."""
    headers = ["scenario", "request", "view"] + [title for title, _, _ in console.BY_REQUEST_COLUMNS]
    rows = [[run.row.name, *line] for run in runs for line in console.by_request_rows(run.row)]
    return Table(headers, rows) if rows else None


def reference_table(runs: list[Run]) -> Table:
    """djload's RPS against the reference generator's on the same server, for the rows where one ran."""
    headers = ["scenario", "djload RPS", "reference", "reference RPS", "djload's share", "generator-bound"]
    rows = [
        [
            run.row.name,
            cell(run.row.measured.effective_rps, "{:.2f}"),
            run.row.headroom.reference_tool or "-",
            cell(run.row.headroom.reference_rps, "{:.2f}"),
            cell(run.row.reference_share, "{:.0%}"),
            "YES" if run.row.headroom.generator_bound else "no",
        ]  # fmt: skip
        for run in runs
        if run.row.headroom.reference_rps is not None
    ]
    return Table(headers, rows)


def time_table(runs: list[Run]) -> Table:
    headers = ["scenario", "mean queue", "p90 queue", "mean in view", "threads (headers / log)"]
    headers += ["requests per worker", "peak in view (headers / log)", "ideal: at once", "ideal total for this spread"]
    rows = []
    for run in runs:
        m, model = run.row.measured, run.row.ideal
        slots = model.ideal_slots
        rows.append([
            run.row.name, cell(m.mean_queue_ms, "{:.1f} ms"), cell(m.p90_queue_ms, "{:.1f} ms"),
            cell(m.mean_service_ms, "{:.1f} ms"),
            f"{cell(m.view_threads, '{}')} / {cell(m.log_distinct_threads, '{}')}",
            "+".join(map(str, m.requests_per_worker or [])) or "-",
            f"{cell(m.peak_in_view, '{}')} / {cell(m.log_peak_in_view, '{}')}",
            ("all" if slots is None else str(slots)) if model.ideal_rule else "-",
            cell(model.ideal_total_time_given_spread_s, "{:.3f} s") if run.row.asked.workers > 1 else "-",
        ])  # fmt: skip
    return Table(headers, rows)


# ---- the CPU-bound sweep -----------------------------------------------------------------------------


def _view(row: Row) -> View | None:
    """What the row's endpoint does, on the row's own site; None where djload does not know (a user's project)."""
    site = of_row(row.asked.site)
    return site.view(row.asked.endpoint) if site else None


def _times(row: Row) -> int | None:
    """The computation's `times`, for a computation view; None for the others."""
    view = _view(row)
    if view is None or view.work is not Work.COMPUTATION:
        return None
    match = re.search(r"[?&]times=(\d+)", row.asked.endpoint)
    return int(match[1]) if match else None


def sweep_series(runs: list[Run]) -> list[figures.Series]:
    """One series per server mode and view over the computation's `times`; empty unless the run is a sweep
    (some series has at least three points)."""
    groups: dict[str, list[tuple[int, float, float, float | None, float | None, bool]]] = {}
    for run in runs:
        row = run.row
        times = _times(row)
        if times is None or not row.completed:
            continue
        site_view = _view(row)  # a computation view: _times found it
        view = "async view" if site_view and site_view.is_async else "sync view"
        label = f"{_server_label(row)} · {view}"
        point = (
            times,
            float(row.measured.effective_rps or 0.0),
            float(row.measured.mean_latency_ms or 0.0),
            row.measured.mean_service_ms,
            row.headroom.server_cpu_ms_per_request,
            row.headroom.generator_bound,
        )
        groups.setdefault(label, []).append(point)
    series = []
    for label, points in groups.items():
        points.sort(key=lambda point: point[0])
        series.append(
            figures.Series(
                label,
                times=[p[0] for p in points],
                rps=[p[1] for p in points],
                mean_latency_ms=[p[2] for p in points],
                service_ms=[p[3] for p in points],
                server_cpu_ms=[p[4] for p in points],
                generator_bound=[p[5] for p in points],
            )
        )
    return series if any(len(s.times) >= 3 for s in series) else []


def crossovers(a: figures.Series, b: figures.Series) -> str:
    """Where the RPS ranking of two series flips, interpolated on log scales; or who leads throughout."""
    common = sorted(set(a.times) & set(b.times))
    rps_a = {t: r for t, r in zip(a.times, a.rps, strict=True)}
    rps_b = {t: r for t, r in zip(b.times, b.rps, strict=True)}
    ratios = [(t, math.log(rps_a[t] / rps_b[t])) for t in common if rps_a[t] > 0 and rps_b[t] > 0]
    if not ratios:
        return f"{a.label} vs {b.label}: no common points"
    flips = []
    for (t1, d1), (t2, d2) in itertools.pairwise(ratios):
        if d1 == 0 or d1 * d2 < 0:
            x = math.log10(t1) + (math.log10(t2) - math.log10(t1)) * (d1 / (d1 - d2) if d1 != d2 else 0)
            ahead = a.label if d2 > 0 else b.label
            flips.append(f"{ahead} takes the lead between times={t1} and {t2} (≈{10**x:,.0f})")
    if flips:
        return f"{a.label} vs {b.label}: " + "; ".join(flips)
    leader, other = (a, b) if ratios[0][1] > 0 else (b, a)
    spread = [math.expm1(abs(d)) * 100 for _, d in ratios]  # how much more RPS the leader has, in %
    return (
        f"{a.label} vs {b.label}: no crossover between times={common[0]} and {common[-1]}; "
        f"{leader.label} leads {other.label} throughout, by {min(spread):.0f}% to {max(spread):.0f}% in RPS"
    )


def sweep_table(series: list[figures.Series]) -> Table:
    all_times = sorted({t for s in series for t in s.times})
    headers = ["times"] + [f"{s.label}: RPS / mean latency / in view / server CPU per request" for s in series]
    rows = []
    for t in all_times:
        row = [f"{t:,}"]
        for s in series:
            if t not in s.times:
                row.append("-")
                continue
            i = s.times.index(t)
            text = f"{s.rps[i]:.1f}{' (generator-bound)' if s.generator_bound[i] else ''} / "
            text += f"{s.mean_latency_ms[i]:.1f} ms / {cell(s.service_ms[i], '{:.2f} ms')} / "
            row.append(text + cell(s.server_cpu_ms[i], "{:.2f} ms"))
        rows.append(row)
    return Table(headers, rows)


def _at(series: figures.Series, t: int) -> float:
    return series.rps[series.times.index(t)]


def _cpu_at(series: figures.Series, t: int) -> float | None:
    return series.server_cpu_ms[series.times.index(t)]


def slide_answers(series: list[figures.Series]) -> list[Block]:
    """The talk's two closing questions, answered with this sweep's numbers.

    1. Does the single-threaded WSGI sync worker do better on CPU-bound work? Compare it, where the loop
       dominates (the largest `times`), with the variants that run the view in several threads.
    2. Does ASGI's event loop cost performance? Compare the async view under ASGI with the WSGI sync worker
       where the loop is negligible (the smallest `times`): the server's CPU time per request (sampled) and,
       from the RPS, the server time per request.
    """
    named = {s.label: s for s in series}
    wsgi, asgi_async = named.get("wsgi · sync view"), named.get("asgi · async view")
    if not wsgi or not asgi_async:
        return []
    common = sorted(set(wsgi.times) & set(asgi_async.times))
    low, high = common[0], common[-1]
    others = [s for s in series if s is not wsgi and high in s.times]
    versus = "; ".join(f"{s.label} {_at(s, high):.1f} ({percent(_at(wsgi, high), _at(s, high))})" for s in others)
    first = (
        f"“WSGI blocking CPU-bound: single-threaded → better performance?” At times={high:,}, where the loop "
        f"dominates, the WSGI sync worker makes {_at(wsgi, high):.1f} RPS; {versus} (WSGI's lead in brackets)."
    )
    second = (
        f"“ASGI: event-loop overhead → lower performance?” At times={low:,}, where the loop is negligible, "
        f"the ASGI async view makes {_at(asgi_async, low):.1f} RPS against WSGI's {_at(wsgi, low):.1f} "
        f"({percent(_at(asgi_async, low), _at(wsgi, low))}); at times={high:,} {_at(asgi_async, high):.1f} "
        f"against {_at(wsgi, high):.1f} ({percent(_at(asgi_async, high), _at(wsgi, high))})."
    )
    cpu_asgi, cpu_wsgi = _cpu_at(asgi_async, low), _cpu_at(wsgi, low)
    if cpu_asgi is not None and cpu_wsgi is not None:
        second += (
            f" Server CPU per request at times={low:,}: {cpu_asgi:.2f} ms under ASGI against {cpu_wsgi:.2f} ms "
            f"under WSGI ({cpu_asgi - cpu_wsgi:+.2f} ms)."
        )
    return [first, second]


# ---- assembling the report ---------------------------------------------------------------------------


def io_section(rows: list[Row]) -> Section | None:
    """The database and upstream views: which mode served each kind best and by how much, and where the
    ideal model and the measurement disagree (djload.answers); None when the run has none of them."""
    data = [row.to_json() for row in rows]
    ranked = answers.rank(data)
    if not ranked:
        return None
    off = answers.disagreement_rows(data)
    return Section(
        "Real I/O: which server for which view",
        [
            answers.INTRO,
            Table(answers.RANKING_HEADERS, answers.ranking_rows(ranked)),
            "Where the ideal model and the measurement disagree:",
            Table(answers.DISAGREEMENT_HEADERS, off) if off else answers.NO_DISAGREEMENT,
            answers.NOTE,
        ],
    )


def capacity_section(rows: list[Row]) -> Section | None:
    """The capacity searches: per group a picture of latency against the offered rate, a table per mode, and
    which mode served the most; None when the run searched nothing."""
    groups = capacityreport.groups(rows)
    if not groups:
        return None
    blocks: list[Block] = [capacityreport.INTRO]
    for n, (group, found) in enumerate(groups.items(), 1):
        png = figures.capacity(capacityreport.lines(found), capacityreport.slo_limits(found))
        blocks.append(Picture(f"capacity-{n}.png", f"latency against offered rate: {group}", png))
        blocks.append(Table(capacityreport.HEADERS, capacityreport.table_rows(found)))
        blocks += capacityreport.answer(found)
    return Section("Capacity", blocks)


def sections(folder: Path, runs: list[Run]) -> list[Section]:
    rows = [run.row for run in runs]
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(Counter(row.status.status for row in rows).items()))
    out = [
        Section(
            "Run",
            [
                f"{_run_name(folder)}: {len(runs)} scenario(s), {statuses}. Times are measured from per-request "
                "records (first request sent → last response received); the ideal is the queueing model of "
                "each server mode for the sleeping views (djload/ideal.py); a run further than 10% from it "
                "is flagged." + _unmodelled(rows),
            ],
        ),
        Section("The slide's numbers", [slide_table(runs)]),
    ]
    per_request = by_request_table(runs)
    if per_request:
        out.append(
            Section(
                "Per request",
                [
                    "The scenarios' weighted mixes, entry by entry (the table above is over the whole mix). "
                    "An entry's RPS is its share of the run's: its completed requests over the run's total time. "
                    "View: whether the view the path resolves to is async.",
                    per_request,
                ],
            )
        )
    out += [
        Section("Latency distribution", ["Percentiles of the per-request latencies.", distribution_table(runs)]),
        *(
            [
                Section(
                    "Against a reference generator",
                    [
                        "Right after the swarm, the reference tool ran against the same server with the same "
                        "connections, duration and CPUs. Where djload got under 90% of its RPS, locust was the "
                        "limit and the row is generator-bound.",
                        reference_table(runs),
                    ],
                )
            ]
            if any(run.row.headroom.reference_rps is not None for run in runs)
            else []
        ),
        Section(
            "Where the time goes",
            [
                "Each request's latency split by the site's response headers: queue = sent → view started "
                "(connect, wait for a free worker, thread or event loop), in view = X-View-Ms. Threads and "
                "peak in view are counted from the headers (X-Thread-Id, X-View-Start/X-View-Ms) and, for "
                "the sleeping views, from the views' own log lines in server.log. With several workers the "
                "ideal assumes the connections spread evenly; the kernel decides, and the last column is the "
                "ideal total time for the spread measured (the busiest worker serving its share alone).",
                time_table(runs),
            ],
        ),
    ]
    memory = memory_rows(rows)
    if memory:
        out.append(Section("Server memory", [MEMORY_INTRO, Table(MEMORY_HEADERS, memory)]))
    with_records = [run for run in runs if run.records]
    measured = [row for row in rows if row.measured.effective_rps is not None]
    if len(measured) > MAX_BARS:
        out.append(Section("Throughput", [rps_summary(measured)]))
    elif measured:
        rps = figures.rps_bars(
            [row.name for row in rows],
            [float(row.measured.effective_rps or 0.0) for row in rows],
            [
                (row.asked.expected_requests or 0) / row.ideal.ideal_total_time_s
                if row.ideal.ideal_total_time_s
                else None
                for row in rows
            ],
        )
        out.append(Section("Throughput", [Picture("rps.png", "effective RPS per scenario", rps)]))
    io = io_section(rows)
    if io:
        out.append(io)
    searched = capacity_section(rows)
    if searched:
        out.append(searched)
    if diagnosed := diagnosis_lines(rows):
        out.append(Section("Why each mode costs what it costs", [DIAGNOSIS_INTRO, *diagnosed]))
    series = sweep_series(runs)
    if series:
        blocks: list[Block] = [
            "The computation view's loop against `times`, one line per server mode and view. Hollow markers: "
            "locust itself was the limit (its RPS is a floor for the server's). The server's CPU time per "
            "request, sampled from its processes, varies least from run to run: it separates the fixed cost of "
            "the server stack from the loop's cost.",
            Picture("sweep.png", "RPS, mean latency and server CPU per request against times", figures.sweep(series)),
        ]
        blocks.append(sweep_table(series))
        blocks += [crossovers(a, b) for a, b in itertools.combinations(series, 2)]
        blocks += slide_answers(series)
        out.append(Section("CPU-bound sweep", blocks))
    if len(runs) > MAX_TIMELINES:
        text = (
            f"{len(runs)} scenarios: a timeline per scenario is drawn for up to {MAX_TIMELINES}. Each scenario's "
            "requests.csv holds every request; `djload report` on a results folder of fewer scenarios draws them."
        )
        out.append(Section("Each request: timeline and latency CDF", [text]))
    elif with_records:
        # Timelines of the same endpoint share their time axis, so a serialised run is visibly longer.
        x_max: dict[str, float] = {}
        for run in with_records:
            key = run.row.asked.endpoint
            x_max[key] = max(x_max.get(key, 0.0), run.row.measured.total_time_s or 0.0)
        pictures: list[Block] = [
            "One bar per request, in send order: orange = queued before the view started, blue = inside the "
            "view, grey = the response's way back. The dashed line is the ideal total time. Under one WSGI "
            "worker the blue parts form a staircase: one request at a time."
        ]
        for run in with_records:
            row = run.row
            title = f"{row.name}\n{_server_label(row)} {row.asked.endpoint}"
            png = figures.timeline(
                run.records, title, figures.nice_max(x_max[row.asked.endpoint]), row.ideal.ideal_total_time_s
            )
            pictures.append(Picture(f"timeline-{row.name}.png", f"timeline of {row.name}", png))
        out.append(Section("Each request: timeline and latency CDF", pictures))
    judged = [run for run in runs if run.row.thresholds]
    if judged:
        checks = Table(
            ["scenario", "metric", "condition", "measured", "breached"],
            [  # fmt: skip
                [
                    run.row.name,
                    check.metric,
                    check.condition,
                    cell(check.value, "{:g}"),
                    "YES" if not check.passed else "no",
                ]
                for run in judged
                for check in run.row.thresholds
            ],
        )
        out.append(Section("Thresholds", ["Each scenario's thresholds, judged on its median run.", checks]))
    out.append(Section("Metadata", metadata_blocks(runs)))
    return out


def _unmodelled(rows: list[Row]) -> str:
    """A sentence for the rows of a user's project, which the ideal model does not cover; "" when none."""
    projects = sorted({row.asked.site for row in rows if of_row(row.asked.site) is None})
    if not projects:
        return ""
    return (
        f" The ideal model applies only to views whose work djload knows; the views of {', '.join(projects)} "
        "are the project's own, so their scenarios have no ideal numbers."
    )


def rps_summary(rows: list[Row]) -> str:
    """The RPS picture's place when there are too many scenarios for one bar each."""
    ordered = sorted(rows, key=lambda row: float(row.measured.effective_rps or 0.0))
    low, median, high = ordered[0], ordered[len(ordered) // 2], ordered[-1]

    def rps(row: Row) -> str:
        return f"{float(row.measured.effective_rps or 0.0):.2f} ({row.name})"

    return (
        f"{len(rows)} scenarios, too many for a bar each: effective RPS from {rps(low)} to {rps(high)}, "
        f"median {rps(median)}; the slide's table above has every one."
    )


def metadata_blocks(runs: list[Run]) -> list[Block]:
    if not runs:
        return ["no scenarios"]
    meta = runs[0].row.facts.machine
    versions = meta.get("versions") or {}
    rows = [[key, str(meta.get(key, "-"))] for key in ("python", "platform", "cpu_model", "cpu_count", "git_revision")]
    rows += [[f"version of {package}", str(version)] for package, version in versions.items()]
    commands = Table(
        ["scenario", "started", "boot", "server command", "locust command"],
        [
            [
                run.row.name,
                run.row.facts.started_at or "-",
                cell(run.row.facts.boot_s, "{:.2f} s"),
                " ".join(run.row.facts.server_command or []) or "-",
                " ".join(run.row.facts.locust_command or []) or "-",
            ]
            for run in runs[:MAX_COMMAND_ROWS]
        ],
    )
    blocks: list[Block] = [Table(["what", "value"], rows), commands]
    if len(runs) > MAX_COMMAND_ROWS:
        blocks.append(f"The first {MAX_COMMAND_ROWS} of {len(runs)} scenarios; summary.json has every command line.")
    return blocks


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(title: str, parts: list[Section]) -> str:
    lines = [f"# {title}", ""]
    for section in parts:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append("| " + " | ".join(map(_md_cell, block.headers)) + " |")
                lines.append("|" + "---|" * len(block.headers))
                lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in block.rows]
            elif isinstance(block, Picture):
                lines.append(f"![{block.alt}]({FIGURES}/{block.name})")
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.flag { color: #b00020; font-weight: bold; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
"""


def render_html(title: str, parts: list[Section]) -> str:
    body = [f"<h1>{html.escape(title)}</h1>"]
    for section in parts:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
                rows = "".join(
                    "<tr>"
                    + "".join(
                        f'<td class="flag">{html.escape(c)}</td>' if c == "YES" else f"<td>{html.escape(c)}</td>"
                        for c in row
                    )
                    + "</tr>"
                    for row in block.rows
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif isinstance(block, Picture):
                data = base64.b64encode(block.png).decode("ascii")
                body.append(f'<img alt="{html.escape(block.alt)}" src="data:image/png;base64,{data}">')
            else:
                body.append(f"<p>{html.escape(block)}</p>")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        # An empty icon: the browser would otherwise ask for favicon.ico beside the file.
        '<link rel="icon" href="data:,">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _run_name(folder: Path) -> str:
    """The run's name, also while its folder still has the temporary name it is built under."""
    return folder.name.removeprefix(".").removesuffix(".partial")


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all, also when a signal cuts the report short."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write(folder: Path, title: str | None = None) -> Path:
    """Write report.md, figures/*.png and report.html into a results folder; returns report.html's path."""
    runs = load_run(folder)
    title = title or f"djload report: {_run_name(folder)}"
    return _write_pages(folder, title, sections(folder, runs), REPORT_MD, REPORT_HTML)


def _write_pages(out: Path, title: str, parts: list[Section], markdown: str, html: str) -> Path:
    """The pictures into out/figures, then the Markdown page (which links them) and the self-contained HTML
    page (which embeds them); returns the HTML page's path."""
    (out / FIGURES).mkdir(exist_ok=True)
    for section in parts:
        for block in section.blocks:
            if isinstance(block, Picture):
                _write(out / FIGURES / block.name, block.png)
    _write(out / markdown, render_markdown(title, parts).encode())
    _write(out / html, render_html(title, parts).encode())
    return out / html


# ---- `djload compare --out`: compare.md and compare.html ------------------------------------------------

COMPARE_MD, COMPARE_HTML = "compare.md", "compare.html"


def comparison_sections(comparison: compare.Comparison, max_regression: float) -> list[Section]:
    regressions = comparison.regressions(max_regression)
    intro = (
        f"Old: {comparison.old}. New: {comparison.new}. Scenarios are paired by name. A change is significant "
        f"when its test's two-sided p-value is below {significance.ALPHA:g}: Welch's t-test on the runs where "
        f"both sides ran --repeat {compare.MIN_REPEATS} or more, else a Mann-Whitney U test on the per-request "
        f"latencies. A regression is a significant change for the worse beyond {max_regression:g}% in mean "
        "latency, total time or RPS."
    )
    warnings = comparison.warnings + [w for item in comparison.pairs for w in item.warnings]
    rows = compare.table(comparison)
    tests = Table(
        ["scenario", "verdict", "test"],
        [[item.name, item.verdict, item.test.describe() if item.test else "no per-request records"]
         for item in comparison.pairs],
    )  # fmt: skip
    found: list[Block] = [f"{item.name}: {change.metric.label} {percent(change.new, change.old)}"
                          for item, change in regressions] or ["None."]  # fmt: skip
    parts = [
        Section("Runs", [intro]),
        Section("Comparability", [f"Not comparable: {w}" for w in warnings] or ["Nothing found that differs."]),
        Section("Scenarios", [Table(rows[0], rows[1:]), tests]),
        Section("Regressions", found),
    ]
    one_side = [f"{name}: only in old" for name in comparison.only_old]
    one_side += [f"{name}: only in new" for name in comparison.only_new]
    if one_side:
        parts.append(Section("Scenarios on one side only", list(one_side)))
    if comparison.pairs:
        names = [item.name for item in comparison.pairs]
        pictures: list[Block] = []
        for n, metric in enumerate(compare.COMPARED):
            olds = [item.changes[n].old for item in comparison.pairs]
            news = [item.changes[n].new for item in comparison.pairs]
            png = figures.compare_bars(names, olds, news, metric.label)
            pictures.append(Picture(f"compare-{metric.key}.png", f"{metric.label}, old and new", png))
        parts.append(Section("Old and new, per scenario", pictures))
    return parts


def write_comparison(comparison: compare.Comparison, out: Path, max_regression: float) -> Path:
    """compare.md (with figures/) and a self-contained compare.html in out; returns compare.html's path."""
    out.mkdir(parents=True, exist_ok=True)
    title = f"djload compare: {comparison.old.name} → {comparison.new.name}"
    return _write_pages(out, title, comparison_sections(comparison, max_regression), COMPARE_MD, COMPARE_HTML)
