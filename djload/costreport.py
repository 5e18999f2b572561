"""The report's view of what a server costs beside its speed: memory per scenario, and why a mode costs what it
costs for a user's project (djload.diagnosis). Plain headers, rows and sentences: djload.report lays them out."""

from djload.answers import server_label
from djload.diagnosis import describe
from djload.summary import HEADROOM_METRICS, MEMORY_PER_WORKER, METRICS, Row

MEMORY_INTRO = (
    "The server's process tree at its highest sample of the run's window (sampled with its CPU, every 0.1 s): "
    "each process's Pss from /proc/<pid>/smaps_rollup summed, so pages the workers share with their master "
    "count once (RSS where Pss cannot be read). Per worker: the processes below the master, at that sample, "
    "divided by their count (a server of one process: that process)."
)
MEMORY_HEADERS = ["scenario", "server", "memory", "per worker", "server CPU/req"]


def memory_rows(rows: list[Row]) -> list[list[str]]:
    """One line per scenario whose server's memory was measured; empty when none was."""
    cpu = METRICS["server_cpu_ms_per_request"]
    total = next(metric for metric in HEADROOM_METRICS if metric.key == "server_memory_mib")
    return [
        [
            row.name,
            server_label(row.to_json()),
            total.cell(row.headroom.server_memory_mib),
            MEMORY_PER_WORKER.cell(row.headroom.server_memory_mib_per_worker),
            cpu.cell(row.headroom.server_cpu_ms_per_request),
        ]
        for row in rows
        if row.headroom.server_memory_mib is not None
    ]


# ---- why a mode costs what it costs (djload.diagnosis) ---------------------------------------------------

DIAGNOSIS_INTRO = (
    "What Django does on every request under each mode, read from the project's settings and views before the "
    "run: a sync-only middleware under ASGI runs in a thread (a hand-off there and back, each way), an async-only "
    "one under WSGI in an event loop; a sync view under ASGI is handed to a thread, an async view under WSGI runs "
    "in an event loop. Beside it, the server CPU per request measured: what those hand-offs cost."
)


def _cpu(row: Row) -> float | None:
    return row.headroom.server_cpu_ms_per_request


def diagnosis_lines(rows: list[Row]) -> list[str]:
    """One line per row with a diagnosis, its warnings, and per group of rows of one project sending the same
    requests the sentence that connects each ASGI mode's adaptations to its CPU per request against WSGI's."""
    found = [row for row in rows if row.asked.diagnosis]
    lines = []
    for row in found:
        said = describe(row.asked.diagnosis or {})
        if said:
            lines.append(f"{row.name} ({server_label(row.to_json())}): {said}.")
        lines += [f"WARNING: {row.name}: {warning}." for warning in (row.asked.diagnosis or {}).get("warnings", [])]
    groups: dict[tuple[str, str, int], list[Row]] = {}
    for row in found:
        if "middleware" in (row.asked.diagnosis or {}):  # a project's: its settings were read
            groups.setdefault((row.asked.site, row.asked.endpoint, row.asked.users), []).append(row)
    for group in groups.values():
        wsgi = [row for row in group if (row.asked.diagnosis or {}).get("interface") == "wsgi" and _cpu(row)]
        asgi = [row for row in group if (row.asked.diagnosis or {}).get("interface") == "asgi" and _cpu(row)]
        if not wsgi or not asgi:
            continue
        base = next((row for row in wsgi if row.asked.server_mode == "wsgi"), wsgi[0])
        for row in asgi:
            lines.append(cost_sentence(row, base))
    return lines


def cost_sentence(asgi: Row, wsgi: Row) -> str:
    """ "3 sync-only middleware adapted per request under ASGI: +0.6 ms of server CPU per request against wsgi"."""
    found = asgi.asked.diagnosis or {}
    other = found.get("adapted_middleware") or []
    threads = sum(1 for view in found.get("views") or [] if view.get("adapted"))
    a, w = _cpu(asgi) or 0.0, _cpu(wsgi) or 0.0
    views = f" and {threads} sync view(s) handed to a thread" if threads else ""
    crossings = found.get("crossings_per_request", 0)
    chain = f" ({crossings} crossing(s) of the chain each way)" if crossings else ""
    return (
        f"{asgi.asked.endpoint}: {len(other)} sync-only middleware adapted per request under ASGI{chain}{views} "
        f"({asgi.asked.server_mode}): {a - w:+.2f} ms of server CPU per request against {wsgi.asked.server_mode} "
        f"({a:.2f} ms against {w:.2f} ms)."
    )
