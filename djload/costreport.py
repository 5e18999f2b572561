"""The report's view of what a server costs beside its speed: memory per scenario, and why a mode costs what it
costs for a user's project (djload.diagnosis). Plain headers, rows and sentences: djload.report lays them out."""

from djload.answers import server_label
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
