"""What a capacity search's rows say, in words and tables: the console's cell, the report's Capacity section's
table and sentences, and the warning when the generator was the limit. Pure: no drawing (djload.figures),
so that the console may use it without matplotlib."""

from collections.abc import Sequence
from dataclasses import dataclass

from djload.capacityspec import CLOSE
from djload.modes import MODES
from djload.summary import Row
from djload.summary import cell as number

HEADERS = [
    "scenario", "mode", "endpoint", "capacity", "limited by", "p99 at capacity", "server CPU/req", "memory",
    "per CPU core", "per GiB",
]  # fmt: skip
INTRO = (
    "Each mode's capacity: the highest rate (requests/s, sent on a fixed schedule, latency from the scheduled "
    "time) that met the SLO with at least 95% of it achieved and the generator on schedule; the rate doubled "
    "until a step failed, then the last passing and the first failing rates were bisected to within 5%. Per CPU "
    "core: the capacity over the CPU cores the server used at it; per GiB: over the server's memory."
)


def searched(rows: Sequence[Row]) -> list[Row]:
    return [row for row in rows if row.search.capacity_steps is not None]


def cell_of(row: Row) -> str:
    search = row.search
    if search.capacity_steps is None:
        return ""
    rps = "none" if search.capacity_rps is None else f"{search.capacity_rps:g} RPS"
    return f"{rps} ({search.capacity_limited_by or '-'})"


def mode_label(row: Row) -> str:
    asked = row.asked
    mode = MODES.get(asked.server_mode)
    threads = f"×{asked.threads}t" if asked.threads > 1 and mode and mode.uses_threads else ""
    return f"{asked.server_mode} {asked.workers}w{threads}"


def per_core(row: Row) -> float | None:
    """Requests/s per CPU core of the server at capacity: the capacity over the cores it used there."""
    cpu_ms = row.headroom.server_cpu_ms_per_request
    return 1000 / cpu_ms if row.search.capacity_rps and cpu_ms else None


def per_gib(row: Row) -> float | None:
    memory = row.headroom.server_memory_mib
    rps = row.search.capacity_rps
    return rps / (memory / 1024) if rps and memory else None


def table_rows(rows: Sequence[Row]) -> list[list[str]]:
    return [
        [
            row.name,
            mode_label(row),
            row.asked.endpoint,
            "-" if row.search.capacity_rps is None else f"{row.search.capacity_rps:g} RPS",
            row.search.capacity_limited_by or "-",
            number(row.measured.p99_ms, "{:.1f} ms"),
            number(row.headroom.server_cpu_ms_per_request, "{:.3f} ms"),
            number(row.headroom.server_memory_mib, "{:.0f} MiB"),
            number(per_core(row), "{:,.0f} RPS"),
            number(per_gib(row), "{:,.0f} RPS"),
        ]
        for row in rows
    ]


def group_of(row: Row) -> str:
    """The picture a row goes in: its matrix's group, or else its view (or mix)."""
    matrix = row.asked.matrix or {}
    return str(matrix.get("group") or row.asked.endpoint)


def groups(rows: Sequence[Row]) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for row in searched(rows):
        found.setdefault(group_of(row), []).append(row)
    return found


def answer(rows: Sequence[Row]) -> list[str]:
    """One sentence per view or mix: which mode served the most within the SLO and by how much (within the
    search's 5% a tie), and each mode whose capacity was the generator's."""
    by_view: dict[str, list[Row]] = {}
    for row in rows:
        by_view.setdefault(row.asked.endpoint, []).append(row)
    sentences = []
    for view, found in by_view.items():
        ranked = sorted((r for r in found if r.search.capacity_rps), key=lambda r: -(r.search.capacity_rps or 0))
        if not ranked:
            sentences.append(f"{view}: no mode met the SLO at its start rate.")
            continue
        best = ranked[0]
        best_rps = best.search.capacity_rps or 0.0
        if len(ranked) == 1:
            text = f"{view}: {mode_label(best)} served {best_rps:g} requests/s within the SLO"
        else:
            second = ranked[1]
            second_rps = second.search.capacity_rps or 0.0
            if best_rps <= second_rps * CLOSE:
                text = (f"{view}: a tie between {mode_label(best)} ({best_rps:g} requests/s) and {mode_label(second)} "
                        f"({second_rps:g}): within the search's 5%")  # fmt: skip
            else:
                text = (f"{view}: {mode_label(best)} served the most within the SLO, {best_rps:g} requests/s, "
                        f"{best_rps / second_rps:.1f}× {mode_label(second)}'s {second_rps:g}")  # fmt: skip
        bound = [mode_label(r) for r in found if r.search.capacity_limited_by == "generator"]
        if bound:
            text += f"; the generator was the limit for {', '.join(bound)}: the server may serve more"
        sentences.append(text + ".")
    return sentences


@dataclass(frozen=True)
class Line:
    """One mode's steps for the picture: offered rate against p50 and p99, and its capacity."""

    label: str
    offered: list[float]
    p50_ms: list[float | None]
    p99_ms: list[float | None]
    passed: list[bool]
    capacity_rps: float | None


def lines(rows: Sequence[Row]) -> list[Line]:
    found = []
    for row in rows:
        steps = sorted(row.search.capacity_steps or [], key=lambda s: float(s.get("offered_rps") or 0.0))
        found.append(
            Line(
                label=f"{mode_label(row)} {row.asked.endpoint}",
                offered=[float(s.get("offered_rps") or 0.0) for s in steps],
                p50_ms=[s.get("p50_ms") for s in steps],
                p99_ms=[s.get("p99_ms") for s in steps],
                passed=[bool(s.get("passed")) for s in steps],
                capacity_rps=row.search.capacity_rps,
            )
        )
    return found


def slo_limits(rows: Sequence[Row]) -> dict[str, float]:
    """The SLO's latency limits to draw across (p50_ms, p99_ms), from the rows' SLO as written."""
    limits: dict[str, float] = {}
    for row in rows:
        for metric, condition in (row.search.capacity_slo or {}).items():
            if metric in ("p50_ms", "p99_ms"):
                try:
                    limits[metric] = float(condition.lstrip("<>=").strip())
                except ValueError:
                    continue
    return limits


def advice(row: Row) -> str:
    """The warning for a search the generator ended: what was seen, and what to change."""
    steps = [s for s in row.search.capacity_steps or [] if not s.get("passed")]
    lowest = min(steps, key=lambda s: float(s.get("offered_rps") or 0.0)) if steps else {}
    return (
        f"{row.name}: capacity_limited_by: generator: at {number(lowest.get('offered_rps'), '{:g}')} requests/s "
        f"{lowest.get('why') or 'locust fell behind its schedule'}; {number(row.search.capacity_rps, '{:g}')} "
        "requests/s is locust's limit, not the server's capacity. "
        "Give the generator more CPUs (cpus.generator / --generator-cpus) or more locust processes, or lower max_rate."
    )
