"""Pure functions from per-request records to the slide's metrics and more.

Every number comes from the raw, unrounded records, never from Locust's bucketed statistics.
"""

import math
from collections.abc import Sequence

from djload.records import Record

PERCENTILES = (50, 90, 99)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The p-th percentile by linear interpolation between closest ranks (numpy's default)."""
    rank = (len(sorted_values) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def total_time_s(records: Sequence[Record]) -> float:
    """First request sent to last response received."""
    if not records:
        return 0.0
    return max(r.end for r in records) - min(r.start for r in records)


def effective_rps(completed: int, total_time: float) -> float:
    return round(completed / total_time, 2) if total_time > 0 else 0.0


def summarize(records: Sequence[Record]) -> dict[str, float | int | None]:
    """The slide's five numbers, then the latency distribution, all in one flat dict."""
    latencies = sorted(r.latency_ms for r in records)
    total = total_time_s(records)
    result: dict[str, float | int | None] = {
        "completed_requests": len(records),
        "total_errors": sum(1 for r in records if not r.ok),
        "total_time_s": total,
        "mean_latency_ms": sum(latencies) / len(latencies) if latencies else None,
        "effective_rps": effective_rps(len(records), total),
    }
    for p in PERCENTILES:
        result[f"p{p}_ms"] = percentile(latencies, p) if latencies else None
    result["min_ms"] = latencies[0] if latencies else None
    result["max_ms"] = latencies[-1] if latencies else None
    return result
