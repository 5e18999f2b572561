"""The report's pictures, drawn with matplotlib's Agg backend into PNG bytes.

Pure drawing: each function takes numbers and returns a PNG; what to draw is decided in report.py.
"""

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display: never open a window, whatever MPLBACKEND says

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen before pyplot is imported
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from djload.capacityreport import Line  # noqa: E402
from djload.records import Record  # noqa: E402

QUEUE, VIEW, RETURN = "#f4a261", "#2a6f97", "#c9c9c9"
WORKER_COLOURS = (VIEW, "#2d9c6a", "#7b4fc9", "#c0392b")
DPI = 100


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _bars(
    rows: Sequence[int], begins: Sequence[float], ends: Sequence[float], height: float, colours: str | list[str]
) -> PolyCollection:
    """Horizontal bars as one collection: one artist for thousands of requests keeps drawing fast."""
    half = height / 2
    boxes = [
        [(begin, row - half), (end, row - half), (end, row + half), (begin, row + half)]
        for row, begin, end in zip(rows, begins, ends, strict=True)
    ]
    return PolyCollection(boxes, facecolors=colours, linewidths=0)


def timeline(
    records: Sequence[Record], title: str, x_max_s: float | None = None, ideal_total_s: float | None = None
) -> bytes:
    """One bar per request, from send to response, in send order top to bottom: the part before the view
    started (queue), the view itself, and the way back. A serialised run is a staircase of view parts."""
    ordered = sorted(records, key=lambda r: r.start)
    t0 = ordered[0].start if ordered else 0.0
    figure, (bars, cdf) = plt.subplots(
        1, 2, figsize=(9.5, 0.9 + min(len(ordered), 40) * 0.09 + 1.2), gridspec_kw={"width_ratios": [3, 1]}
    )
    # Each worker process gets its own colour for the view part, so an uneven spread shows.
    workers = list(dict.fromkeys(r.worker_pid for r in ordered if r.worker_pid is not None))
    colour = {pid: WORKER_COLOURS[i % len(WORKER_COLOURS)] for i, pid in enumerate(workers)}
    # Three segments per request: queued, in the view, on the way back.
    rows, sends, view_begins, view_ends, ends, colours = [], [], [], [], [], []
    for row, record in enumerate(ordered):
        send, end = record.start - t0, record.end - t0
        if record.view_start is None or record.view_ms is None:
            view_begin = view_end = send  # no view seen: the whole bar is the response's way
        else:
            view_begin = min(max(record.view_start - t0, send), end)
            view_end = min(view_begin + record.view_ms / 1000, end)
        rows.append(row)
        sends.append(send)
        view_begins.append(view_begin)
        view_ends.append(view_end)
        ends.append(end)
        colours.append(colour.get(record.worker_pid or 0, VIEW))
    height = 0.8 if len(rows) <= 100 else 1.0
    for begins, stops, colour_of in (
        (sends, view_begins, QUEUE),
        (view_begins, view_ends, colours),
        (view_ends, ends, RETURN),
    ):
        bars.add_collection(_bars(rows, begins, stops, height, colour_of))
    bars.set_ylim(len(ordered) - 0.5, -0.5)  # first request on top
    bars.set_xlim(0, x_max_s or max(ends, default=1.0) * 1.05)
    if ideal_total_s:
        bars.axvline(ideal_total_s, color="black", linestyle="--", linewidth=1)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value + 1:.0f}"))
    bars.set_xlabel("seconds since the first request was sent")
    bars.set_ylabel("request (in send order)")
    bars.set_title(title, fontsize=10, loc="left")
    legend = [Patch(color=QUEUE, label="queue (send → view start)")]
    if len(workers) > 1:
        legend += [Patch(color=colour[pid], label=f"in the view, worker {pid}") for pid in workers[:4]]
    else:
        legend.append(Patch(color=VIEW, label="in the view"))
    legend.append(Patch(color=RETURN, label="response"))
    if ideal_total_s:
        legend.append(Patch(facecolor="none", edgecolor="black", linestyle="--", label="ideal total"))
    bars.legend(handles=legend, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=3)

    latencies = sorted(r.latency_ms for r in ordered)
    if latencies:
        fractions = [(i + 1) / len(latencies) for i in range(len(latencies))]
        cdf.step(latencies, fractions, where="post", color=VIEW)
    cdf.set_ylim(0, 1.02)
    cdf.set_xlabel("latency (ms)")
    cdf.set_ylabel("fraction of requests")
    cdf.set_title("latency CDF", fontsize=10, loc="left")
    cdf.grid(alpha=0.3)
    figure.tight_layout()
    return _png(figure)


def rps_bars(labels: Sequence[str], measured: Sequence[float], ideal: Sequence[float | None]) -> bytes:
    """Effective RPS per scenario, the ideal model's RPS marked where there is one."""
    figure, axes = plt.subplots(figsize=(9.5, 0.8 + 0.28 * len(labels)))
    rows = range(len(labels))
    axes.barh(rows, measured, color=VIEW, label="measured")
    marks = [(row, value) for row, value in zip(rows, ideal, strict=True) if value]
    if marks:
        axes.scatter([v for _, v in marks], [r for r, _ in marks], marker="|", s=200, color="black", label="ideal")
    axes.set_yticks(list(rows), labels, fontsize=7)
    axes.invert_yaxis()
    positive = [v for v in measured if v > 0]
    if positive and max(positive) / min(positive) > 50:
        axes.set_xscale("log")
    axes.set_xlabel("effective RPS (completed requests / total time)")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    return _png(figure)


@dataclass(frozen=True)
class Series:
    label: str
    times: list[int]
    rps: list[float]
    mean_latency_ms: list[float]
    service_ms: list[float | None]  # mean time inside the view: the computation itself
    server_cpu_ms: list[float | None]  # the server's CPU time per request, where it was sampled
    generator_bound: list[bool]  # locust itself was the limit: the RPS is a floor for the server


def sweep(series: Sequence[Series]) -> bytes:
    """RPS, mean latency and (where sampled) the server's CPU time per request against the computation's
    `times`, one line per server mode and view. Hollow markers: locust itself was the limit."""
    panels: list[tuple[str, str, Callable[[Series], list[float | None]]]] = [
        ("throughput", "effective RPS", lambda line: list(line.rps)),
        ("mean latency", "mean latency (ms)", lambda line: list(line.mean_latency_ms)),
    ]
    if any(v is not None for line in series for v in line.server_cpu_ms):
        panels.append(("server CPU per request", "server CPU time per request (ms)", lambda line: line.server_cpu_ms))
    figure, axes_row = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2))
    for axes, (title, ylabel, values_of) in zip(axes_row, panels, strict=True):
        for n, line in enumerate(series):
            points = [
                (t, v, bound) for t, v, bound in zip(line.times, values_of(line), line.generator_bound, strict=True)
            ]
            points = [(t, v, bound) for t, v, bound in points if v is not None]
            colour = f"C{n}"
            axes.plot([t for t, _, _ in points], [v for _, v, _ in points], color=colour, label=line.label)
            for t, v, bound in points:
                axes.plot([t], [v], marker="o", color=colour, markerfacecolor="white" if bound else colour)
        axes.set_xscale("log")
        values = [v for line in series for v in values_of(line) if v is not None and v > 0]
        if values and max(values) / min(values) > 20:
            axes.set_yscale("log")
        axes.set_xlabel("times (loop steps per request)")
        axes.set_ylabel(ylabel)
        axes.set_title(title, fontsize=10, loc="left")
        axes.grid(alpha=0.3, which="both")
    axes_row[0].legend(fontsize=8)
    figure.tight_layout()
    return _png(figure)


def nice_max(value: float) -> float:
    """A round axis limit a little above value, shared by timelines that should be compared."""
    if value <= 0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(value))
    return math.ceil(value * 1.05 / (step / 5)) * (step / 5)


def compare_bars(labels: Sequence[str], old: Sequence[float | None], new: Sequence[float | None], xlabel: str) -> bytes:
    """One metric of two runs side by side: per scenario, the old value's bar above the new one's."""
    figure, axes = plt.subplots(figsize=(9.5, 0.9 + 0.45 * len(labels)))
    rows = range(len(labels))
    height = 0.38
    axes.barh([r - height / 2 for r in rows], [v or 0.0 for v in old], height, color=RETURN, label="old")
    axes.barh([r + height / 2 for r in rows], [v or 0.0 for v in new], height, color=VIEW, label="new")
    axes.set_yticks(list(rows), labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    return _png(figure)


def capacity(lines: Sequence[Line], slo: dict[str, float]) -> bytes:
    """p99 (solid) and p50 (dotted) latency against the offered rate, one colour per mode:
    failed steps hollow, each mode's capacity a vertical mark, the SLO's latency limits drawn across."""
    figure, axes = plt.subplots(figsize=(8.5, 4.6))
    palette = plt.get_cmap("tab20" if len(lines) > 10 else "tab10")
    for n, line in enumerate(lines):
        colour = palette(n % palette.N)
        for values, style, label in ((line.p99_ms, "-", line.label), (line.p50_ms, ":", None)):
            points = [(x, y, ok) for x, y, ok in zip(line.offered, values, line.passed, strict=True) if y is not None]
            axes.plot([x for x, _, _ in points], [y for _, y, _ in points], style, color=colour, label=label)
            for x, y, ok in points:
                axes.plot([x], [y], marker="o", color=colour, markerfacecolor=colour if ok else "white")
        if line.capacity_rps:
            axes.axvline(line.capacity_rps, color=colour, alpha=0.5, linewidth=1)
            axes.annotate(f"{line.capacity_rps:g}/s", (line.capacity_rps, 1), xycoords=("data", "axes fraction"),
                          color=colour, fontsize=7, rotation=90, va="top", ha="right")  # fmt: skip
    for metric, limit in slo.items():
        axes.axhline(limit, color="#c0392b", linestyle="--", linewidth=1, label=f"SLO {metric} {limit:g} ms")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("offered rate (requests/s)")
    axes.set_ylabel("latency from the scheduled time (ms)")
    axes.grid(alpha=0.3, which="both")
    axes.set_title("p99 solid, p50 dotted; hollow: the step failed", fontsize=9, loc="left")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    return _png(figure)
