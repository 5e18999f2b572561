"""Pure functions from per-request records to the slide's metrics and more.

Every number comes from the raw, unrounded records, never from Locust's bucketed statistics.
"""

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from djload.records import Record

PERCENTILES = (50, 90, 95, 99, 99.9)


def percentile_key(p: float) -> str:
    """The summary key of a percentile: p50_ms, p99_ms, p999_ms (99.9)."""
    return f"p{p:g}_ms".replace(".", "")


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


def deviation(measured: object, reference: object) -> float | None:
    """(measured - reference) / reference: how far a number is from another, as a fraction; None when either
    is not a number or the reference is 0. The one rule behind every percent djload prints."""
    if isinstance(measured, bool) or not isinstance(measured, int | float):
        return None
    if isinstance(reference, bool) or not isinstance(reference, int | float) or not reference:
        return None
    return (measured - reference) / reference


def span(records: Sequence[Record]) -> tuple[float, float]:
    """The run's window in epoch seconds: first request sent, last response received."""
    return min(r.start for r in records), max(r.end for r in records)


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
        result[percentile_key(p)] = percentile(latencies, p) if latencies else None
    result["min_ms"] = latencies[0] if latencies else None
    result["max_ms"] = latencies[-1] if latencies else None
    return result


def peak_overlap(intervals: Sequence[tuple[float, float]]) -> int:
    """Most intervals open at one instant; an interval that ends exactly when another starts does not overlap."""
    edges = sorted([(begin, 1) for begin, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = peak = 0
    for _, step in edges:  # at equal times -1 sorts first: an end frees its slot before the next start
        open_now += step
        peak = max(peak, open_now)
    return peak


def view_split(records: Sequence[Record]) -> dict[str, Any]:
    """Each request's latency split, from the site's response headers, into queue time (send → view
    start) and service time (inside the view); plus how many threads and workers served the view and
    how many requests were inside it at once."""
    views = [(r, r.view_start, r.view_ms) for r in records if r.view_start is not None and r.view_ms is not None]
    if not views:
        keys = ("mean_queue_ms", "p90_queue_ms", "mean_service_ms", "view_threads", "view_workers", "peak_in_view")
        return {**dict.fromkeys(keys), "requests_per_worker": []}
    queues = sorted((start - r.start) * 1000 for r, start, _ in views)
    return {
        "mean_queue_ms": sum(queues) / len(queues),
        "p90_queue_ms": percentile(queues, 90),
        "mean_service_ms": sum(ms for _, _, ms in views) / len(views),
        "view_threads": len({(r.worker_pid, r.thread_id) for r, _, _ in views}),
        "view_workers": len({r.worker_pid for r, _, _ in views}),
        # How evenly the kernel spread the connections over the worker processes, busiest first.
        "requests_per_worker": sorted(Counter(r.worker_pid for r, _, _ in views).values(), reverse=True),
        "peak_in_view": peak_overlap([(start, start + ms / 1000) for _, start, ms in views]),
    }


SUB_BUCKETS = 16  # per power of two: each bucket is at most 1/16 (6.25%) of its lower bound wide


def histogram(latencies_ms: Sequence[float]) -> dict[str, object]:
    """Latencies counted in HDR-style log-linear buckets of whole microseconds.

    Values below SUB_BUCKETS µs get one bucket each; above, every power of two [2^k, 2^(k+1)) is
    cut into SUB_BUCKETS equal parts, so the relative resolution is the same from 10 µs to 10 min.
    Only non-empty buckets are listed, as [low_ms, high_ms, count] with low ≤ latency < high.
    """
    counts: dict[tuple[int, int], int] = {}
    for latency in latencies_ms:
        us = max(0, int(latency * 1000))
        shift = max(0, us.bit_length() - SUB_BUCKETS.bit_length())
        low = us >> shift << shift
        key = (low, low + (1 << shift))
        counts[key] = counts.get(key, 0) + 1
    return {
        "unit": "ms",
        "sub_buckets_per_power_of_two": SUB_BUCKETS,
        "buckets": [[low / 1000, high / 1000, count] for (low, high), count in sorted(counts.items())],
    }


# Compared across the runs of a --repeat; the summary's own value for each is the median.
REPEATED = (
    "effective_rps",
    "total_time_s",
    "mean_latency_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "server_cpu_ms_per_request",
    "server_memory_mib",
    "server_memory_mib_per_worker",
    "generator_busy_percent",
)
UNSTABLE = 0.10  # pyperf's rule: warn when the standard deviation exceeds 10% of the mean


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min, max and relative standard deviation (sample std dev / mean) of repeated runs."""
    mean = statistics.fmean(values)
    rel = statistics.stdev(values) / mean if len(values) > 1 and mean else 0.0
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "rel_std_dev": rel,
    }


def repeated(runs: Sequence[dict[str, object]]) -> dict[str, object]:
    """Medians of the runs' metrics, and each metric's spread; metrics that vary by more than 10% are named."""
    result: dict[str, object] = {}
    spreads: dict[str, dict[str, float]] = {}
    for key in REPEATED:
        values = [float(v) for run in runs if isinstance(v := run.get(key), int | float)]
        if len(values) == len(runs) and values:
            spreads[key] = spread(values)
            result[key] = spreads[key]["median"]
    result["spread"] = spreads
    result["unstable"] = [key for key, s in spreads.items() if s["rel_std_dev"] > UNSTABLE]
    return result


BY_REQUEST_KEYS = ("completed_requests", "total_errors", "mean_latency_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                   "p999_ms", "max_ms")  # fmt: skip
# Every number of a mix's entry: what a `by_request[<path>].<metric>` threshold may name.
BY_REQUEST_METRICS = (*BY_REQUEST_KEYS, "effective_rps")


def by_request(records: Sequence[Record], entries: Sequence[tuple[str, str, bool | None]]) -> list[dict[str, Any]]:
    """A mix's metrics per entry (method, path, whether its view is async), from the records it marked.

    An entry's effective_rps is its completed requests over the whole run's total time: its share of the
    run's throughput, so that the entries' RPS add up to the run's.
    """
    total = total_time_s(records)
    rows: list[dict[str, Any]] = []
    for index, (method, path, is_async) in enumerate(entries):
        own = [record for record in records if record.entry == index]
        measured = summarize(own)
        rows.append(
            {
                "method": method,
                "path": path,
                **{key: measured[key] for key in BY_REQUEST_KEYS},
                "effective_rps": effective_rps(len(own), total),
                "async": is_async,
            }
        )
    return rows
