"""Summaries → the slide table as text, and a run's report: report.md and a self-contained report.html.

The pictures are drawn by djload.figures (matplotlib, Agg backend).
"""

import base64
import html
import itertools
import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from djload import figures, headroom, ideal, metrics, records, serverlog
from djload.modes import MODES
from djload.records import Record
from djload.sites import BUNDLED, Work

SLIDE_COLUMNS = (
    ("completed_requests", "completed", "{:.0f}"),
    ("total_errors", "errors", "{:.0f}"),
    ("total_time_s", "total time", "{:.3f} s"),
    ("mean_latency_ms", "mean latency", "{:.1f} ms"),
    ("effective_rps", "RPS", "{:.2f}"),
)
# Trust columns: the server's cost per request and how busy the load generator was.
HEADROOM_COLUMNS = (
    ("server_cpu_ms_per_request", "server CPU/req", "{:.3f} ms"),
    ("generator_busy_percent", "generator", "{:.0f}% busy"),
)

# The slide numbers that physics fixes; the others (counts, a rounded RPS) are compared by eye.
COMPARED = ("total_time_s", "mean_latency_ms")


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _deviation(measured: Any, expected: Any) -> str:
    if measured is None or not expected:
        return ""
    return f" ({(measured - expected) / expected * 100:+.1f}%)"


def table(results: list[dict[str, Any]]) -> str:
    """The slide's five numbers per scenario; the talk's own numbers on the line below when known.

    Measured total time and mean latency show how far they are from the talk's, in percent.
    """
    columns = SLIDE_COLUMNS + HEADROOM_COLUMNS
    header = ["scenario", "server", "endpoint", "status"] + [title for _, title, _ in columns]
    rows = [header]
    for result in results:
        expected = result.get("expected") or {}
        rows.append(
            [result["scenario"], result["server_mode"], result["endpoint"], result["status"]]
            + [
                _cell(result.get(key), fmt)
                + (_deviation(result.get(key), expected.get(key)) if key in COMPARED else "")
                for key, _, fmt in columns
            ]
        )
        if result.get("generator_bound"):
            rows[-1][-1] += " GENERATOR-BOUND"
        if expected:
            rows.append(["", "", "", "talk"] + [_cell(expected.get(key), fmt) for key, _, fmt in SLIDE_COLUMNS])
            rows[-1] += [""] * (len(header) - len(rows[-1]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


# ---- report.md and report.html -------------------------------------------------------------------------
# Both are rendered from one list of sections, so they always say the same thing. Pictures are PNG
# files under figures/ for the markdown and base64 data inside the HTML, which needs no other file.

REPORT_MD, REPORT_HTML, FIGURES = "report.md", "report.html", "figures"


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
    """One scenario's summary entry with its raw records, as the report needs them."""

    entry: dict[str, Any]
    records: list[Record]


def _fmt(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _pct(measured: Any, reference: Any) -> str:
    if not isinstance(measured, int | float) or not reference:
        return "-"
    return f"{(measured - reference) / reference * 100:+.1f}%"


def enrich(entry: dict[str, Any], recs: list[Record], scenario_dir: Path) -> dict[str, Any]:
    """The entry plus the derived numbers (ideal, queue/service split, log analysis) it lacks, computed by
    the same functions `djload run` uses, so that the report of an older run says the same."""
    derived: dict[str, Any] = {}
    if recs and "requests_per_worker" not in entry:
        derived.update(metrics.view_split(recs))
    if "log_peak_in_view" not in entry:
        derived.update(serverlog.read(scenario_dir / "server.log").as_summary())
    result = {**derived, **entry}
    result.update(ideal.compare(result))  # pure and cheap: always the current model
    return result


def load_run(folder: Path) -> list[Run]:
    summary_path = folder / "summary.json"
    try:
        entries = json.loads(summary_path.read_text())
    except (OSError, ValueError) as exc:
        raise ReportError(f"{summary_path}: cannot read the run's summary: {exc}") from None
    if not isinstance(entries, list):
        raise ReportError(f"{summary_path}: expected a list of scenario results")
    runs = []
    for entry in entries:
        scenario_dir = _representative_dir(folder / str(entry.get("scenario", "")), entry)
        csv_path = scenario_dir / "requests.csv"
        recs = records.read(csv_path) if csv_path.is_file() else []
        runs.append(Run(enrich(entry, recs, scenario_dir), recs))
    return runs


def _representative_dir(scenario_dir: Path, entry: dict[str, Any]) -> Path:
    """Where the requests to draw are: the scenario's folder, or with --repeat the run-N folder of the run
    whose RPS is nearest the median (the summary's numbers are the medians)."""
    repeats = [run for run in entry.get("runs") or [] if isinstance(run.get("effective_rps"), int | float)]
    if not repeats or not isinstance(entry.get("effective_rps"), int | float):
        return scenario_dir
    nearest = min(repeats, key=lambda run: abs(run["effective_rps"] - entry["effective_rps"]))
    return scenario_dir / f"run-{nearest.get('run', 1)}"


class ReportError(Exception):
    """The folder holds no readable run."""


def _server_label(entry: dict[str, Any]) -> str:
    mode, workers, threads = entry.get("server_mode", "?"), entry.get("workers", 1), entry.get("threads", 1)
    label = f"{mode} ×{workers}" if workers and workers != 1 else str(mode)
    row = MODES.get(str(mode))
    return label + (f" ({threads} threads)" if row and row.uses_threads else "")


TALK_CELL = (("total_time_s", "{:.3f} s"), ("mean_latency_ms", "{:.1f} ms"), ("effective_rps", "{:g}"))


def slide_table(runs: list[Run]) -> Table:
    headers = ["scenario", "server", "endpoint", "status", "completed", "errors", "total time", "mean latency", "RPS"]
    headers += ["talk: total / mean / RPS", "ideal: total / mean", "vs ideal: total / mean", "deviates > 10%"]
    rows = []
    for run in runs:
        e, talk = run.entry, run.entry.get("expected") or {}
        talk_cell = "-"
        if talk:
            talk_cell = " / ".join(_fmt(talk.get(key), fmt) for key, fmt in TALK_CELL)
        has_ideal = e.get("ideal_total_time_s") is not None
        rows.append([
            e["scenario"], _server_label(e), e.get("endpoint", ""), e.get("status", ""),
            _fmt(e.get("completed_requests"), "{:.0f}"), _fmt(e.get("total_errors"), "{:.0f}"),
            _fmt(e.get("total_time_s"), "{:.3f} s"), _fmt(e.get("mean_latency_ms"), "{:.1f} ms"),
            _fmt(e.get("effective_rps"), "{:.2f}"), talk_cell,
            f"{e['ideal_total_time_s']:.3f} s / {e['ideal_mean_latency_ms']:.1f} ms" if has_ideal else "-",
            f"{_pct(e.get('total_time_s'), e.get('ideal_total_time_s'))} / "
            f"{_pct(e.get('mean_latency_ms'), e.get('ideal_mean_latency_ms'))}" if has_ideal else "-",
            {True: "YES", False: "no"}.get(e.get("deviates_from_ideal"), "-"),  # type: ignore[arg-type]
        ])  # fmt: skip
    return Table(headers, rows)


def time_table(runs: list[Run]) -> Table:
    headers = ["scenario", "mean queue", "p90 queue", "mean in view", "threads (headers / log)"]
    headers += ["requests per worker", "peak in view (headers / log)", "ideal: at once", "ideal total for this spread"]
    rows = []
    for run in runs:
        e = run.entry
        slots = e.get("ideal_slots")
        rows.append([
            e["scenario"], _fmt(e.get("mean_queue_ms"), "{:.1f} ms"), _fmt(e.get("p90_queue_ms"), "{:.1f} ms"),
            _fmt(e.get("mean_service_ms"), "{:.1f} ms"),
            f"{_fmt(e.get('view_threads'), '{}')} / {_fmt(e.get('log_distinct_threads'), '{}')}",
            "+".join(map(str, e.get("requests_per_worker") or [])) or "-",
            f"{_fmt(e.get('peak_in_view'), '{}')} / {_fmt(e.get('log_peak_in_view'), '{}')}",
            ("all" if slots is None else str(slots)) if e.get("ideal_rule") else "-",
            _fmt(e.get("ideal_total_time_given_spread_s"), "{:.3f} s") if (e.get("workers") or 1) > 1 else "-",
        ])  # fmt: skip
    return Table(headers, rows)


# ---- the CPU-bound sweep -----------------------------------------------------------------------------


def _times(endpoint: str) -> int | None:
    """The computation's `times`, for a computation view; None for the others."""
    view = BUNDLED.view(endpoint)
    if view is None or view.work is not Work.COMPUTATION:
        return None
    match = re.search(r"[?&]times=(\d+)", endpoint)
    return int(match[1]) if match else None


def sweep_series(runs: list[Run]) -> list[figures.Series]:
    """One series per server mode and view over the computation's `times`; empty unless the run is a sweep
    (some series has at least three points)."""
    groups: dict[str, list[tuple[int, float, float, float | None, float | None, bool]]] = {}
    for run in runs:
        e = run.entry
        times = _times(str(e.get("endpoint", "")))
        if times is None or e.get("status") != "completed":
            continue
        site_view = BUNDLED.view(str(e["endpoint"]))  # a computation view: _times found it
        view = "async view" if site_view and site_view.is_async else "sync view"
        label = f"{_server_label(e)} · {view}"
        point = (
            times,
            float(e.get("effective_rps") or 0.0),
            float(e.get("mean_latency_ms") or 0.0),
            e.get("mean_service_ms"),
            e.get("server_cpu_ms_per_request"),
            bool(e.get("generator_bound")),
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
            cell = f"{s.rps[i]:.1f}{' (generator-bound)' if s.generator_bound[i] else ''} / "
            cell += f"{s.mean_latency_ms[i]:.1f} ms / {_fmt(s.service_ms[i], '{:.2f} ms')} / "
            row.append(cell + _fmt(s.server_cpu_ms[i], "{:.2f} ms"))
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
    versus = "; ".join(f"{s.label} {_at(s, high):.1f} ({_pct(_at(wsgi, high), _at(s, high))})" for s in others)
    first = (
        f"“WSGI blocking CPU-bound: single-threaded → better performance?” At times={high:,}, where the loop "
        f"dominates, the WSGI sync worker makes {_at(wsgi, high):.1f} RPS; {versus} (WSGI's lead in brackets)."
    )
    second = (
        f"“ASGI: event-loop overhead → lower performance?” At times={low:,}, where the loop is negligible, "
        f"the ASGI async view makes {_at(asgi_async, low):.1f} RPS against WSGI's {_at(wsgi, low):.1f} "
        f"({_pct(_at(asgi_async, low), _at(wsgi, low))}); at times={high:,} {_at(asgi_async, high):.1f} "
        f"against {_at(wsgi, high):.1f} ({_pct(_at(asgi_async, high), _at(wsgi, high))})."
    )
    cpu_asgi, cpu_wsgi = _cpu_at(asgi_async, low), _cpu_at(wsgi, low)
    if cpu_asgi is not None and cpu_wsgi is not None:
        second += (
            f" Server CPU per request at times={low:,}: {cpu_asgi:.2f} ms under ASGI against {cpu_wsgi:.2f} ms "
            f"under WSGI ({cpu_asgi - cpu_wsgi:+.2f} ms)."
        )
    return [first, second]


# ---- assembling the report ---------------------------------------------------------------------------


def sections(folder: Path, runs: list[Run]) -> list[Section]:
    entries = [run.entry for run in runs]
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(Counter(e.get("status") for e in entries).items()))
    out = [
        Section(
            "Run",
            [
                f"{_run_name(folder)}: {len(runs)} scenario(s), {statuses}. Times are measured from per-request "
                "records (first request sent → last response received); the ideal is the queueing model of "
                "each server mode for the sleeping views (djload/ideal.py); a run further than 10% from it "
                "is flagged.",
            ],
        ),
        Section("The slide's numbers", [slide_table(runs)]),
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
    with_records = [run for run in runs if run.records]
    if with_records:
        rps = figures.rps_bars(
            [e["scenario"] for e in entries],
            [float(e.get("effective_rps") or 0.0) for e in entries],
            [
                (e.get("expected_requests") or 0) / e["ideal_total_time_s"] if e.get("ideal_total_time_s") else None
                for e in entries
            ],
        )
        out.append(Section("Throughput", [Picture("rps.png", "effective RPS per scenario", rps)]))
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
    if with_records:
        # Timelines of the same endpoint share their time axis, so a serialised run is visibly longer.
        x_max: dict[str, float] = {}
        for run in with_records:
            key = str(run.entry.get("endpoint"))
            x_max[key] = max(x_max.get(key, 0.0), run.entry.get("total_time_s") or 0.0)
        pictures: list[Block] = [
            "One bar per request, in send order: orange = queued before the view started, blue = inside the "
            "view, grey = the response's way back. The dashed line is the ideal total time. Under one WSGI "
            "worker the blue parts form a staircase: one request at a time."
        ]
        for run in with_records:
            e = run.entry
            title = f"{e['scenario']}\n{_server_label(e)} {e.get('endpoint', '')}"
            png = figures.timeline(
                run.records, title, figures.nice_max(x_max[str(e.get("endpoint"))]), e.get("ideal_total_time_s")
            )
            pictures.append(Picture(f"timeline-{e['scenario']}.png", f"timeline of {e['scenario']}", png))
        out.append(Section("Each request: timeline and latency CDF", pictures))
    out.append(Section("Metadata", metadata_blocks(runs)))
    return out


def metadata_blocks(runs: list[Run]) -> list[Block]:
    if not runs:
        return ["no scenarios"]
    meta = runs[0].entry.get("metadata") or {}
    versions = meta.get("versions") or {}
    rows = [[key, str(meta.get(key, "-"))] for key in ("python", "platform", "cpu_model", "cpu_count", "git_revision")]
    rows += [[f"version of {package}", str(version)] for package, version in versions.items()]
    commands = Table(
        ["scenario", "started", "boot", "server command", "locust command"],
        [
            [
                str(run.entry.get("scenario")),
                str(run.entry.get("started_at", "-")),
                _fmt(run.entry.get("boot_s"), "{:.2f} s"),
                " ".join(run.entry.get("server_command") or []) or "-",
                " ".join(run.entry.get("locust_command") or []) or "-",
            ]
            for run in runs
        ],
    )
    return [Table(["what", "value"], rows), commands]


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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write(folder: Path, title: str | None = None) -> Path:
    """Write report.md, figures/*.png and report.html into a results folder; returns report.html's path."""
    runs = load_run(folder)
    title = title or f"djload report: {_run_name(folder)}"
    parts = sections(folder, runs)
    (folder / FIGURES).mkdir(exist_ok=True)
    for section in parts:
        for block in section.blocks:
            if isinstance(block, Picture):
                _write(folder / FIGURES / block.name, block.png)
    _write(folder / REPORT_MD, render_markdown(title, parts).encode())
    _write(folder / REPORT_HTML, render_html(title, parts).encode())
    return folder / REPORT_HTML


def warnings(results: list[dict[str, Any]]) -> list[str]:
    """Lines printed under the table: the spread of repeated runs, and every reason to doubt a number."""
    lines: list[str] = []
    for result in results:
        spreads = result.get("spread") or {}
        if spreads:
            lines.append(f"\n{result['scenario']}: {result.get('repeat')} runs, median (min … max, rel std dev):")
            for key, s in spreads.items():
                lines.append(
                    f"  {key:<26} {s['median']:>12.3f}  ({s['min']:.3f} … {s['max']:.3f}, {s['rel_std_dev']:.1%})"
                )
        for key in result.get("unstable") or []:
            lines.append(
                f"WARNING: {result['scenario']}: {key} varies by {spreads[key]['rel_std_dev']:.1%} between runs "
                "(rel std dev > 10%): the result may be unstable; rerun with more --repeat, a longer run, "
                "warm-up requests or pinned CPUs (--server-cpus/--generator-cpus), on a quieter machine."
            )
        if result.get("generator_bound"):
            lines.append("WARNING: " + headroom.advice(result))
    return lines
