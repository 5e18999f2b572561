import pytest

from djload import metrics
from djload.metrics import effective_rps, peak_overlap, percentile, summarize, total_time_s, view_split
from djload.records import Record


def rec(start: float, latency_ms: float, error: str = "") -> Record:
    return Record(start=start, latency_ms=latency_ms, status=0 if error else 200, size=13, error=error)


def test_serialised_run_has_the_slide_shape() -> None:
    # One worker, ten 2 s requests sent at once: request k finishes at 2k seconds.
    records = [rec(100.0, 2000.0 * k) for k in range(1, 11)]
    summary = summarize(records)
    assert summary["completed_requests"] == 10
    assert summary["total_errors"] == 0
    assert summary["total_time_s"] == pytest.approx(20.0)
    assert summary["mean_latency_ms"] == pytest.approx(11000.0)
    assert summary["effective_rps"] == 0.5
    assert summary["min_ms"] == 2000.0
    assert summary["max_ms"] == 20000.0


def test_total_time_runs_from_first_send_to_last_response() -> None:
    records = [rec(10.0, 500.0), rec(10.2, 2000.0), rec(11.0, 100.0)]
    assert total_time_s(records) == pytest.approx(2.2)


def test_errors_are_completed_requests_that_failed() -> None:
    summary = summarize([rec(0.0, 5.0), rec(0.0, 7.0, error="ConnectionError: refused")])
    assert summary["completed_requests"] == 2
    assert summary["total_errors"] == 1


def test_mean_latency_is_unrounded() -> None:
    assert summarize([rec(0.0, 2024.25), rec(0.0, 2024.5)])["mean_latency_ms"] == 2024.375


def test_effective_rps_keeps_two_decimals_where_the_slide_rounds_to_zero() -> None:
    assert effective_rps(10, 20.076) == 0.5
    assert effective_rps(10, 2.037) == 4.91
    assert effective_rps(0, 0.0) == 0.0


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 90) == 7.0


def test_no_records_gives_no_latency() -> None:
    summary = summarize([])
    assert summary["completed_requests"] == 0
    assert summary["mean_latency_ms"] is None
    assert summary["p99_ms"] is None


def served(start: float, queue_s: float, view_ms: float, thread: int = 1) -> Record:
    view_start = start + queue_s
    latency_ms = queue_s * 1000 + view_ms + 1.0
    return Record(start, latency_ms, 200, 13, "", 42, thread, view_start, view_ms)


def test_view_split_separates_queue_from_service() -> None:
    # One worker, three 1 s views sent at once: they queue 0, 1 and 2 s.
    split = view_split([served(100.0, k, 1000.0) for k in range(3)])
    assert split["mean_queue_ms"] == pytest.approx(1000.0)
    assert split["mean_service_ms"] == pytest.approx(1000.0)
    assert split["peak_in_view"] == 1
    assert (split["view_threads"], split["view_workers"], split["requests_per_worker"]) == (1, 1, [3])


def test_view_split_counts_overlapping_views_and_threads() -> None:
    split = view_split([served(100.0, 0.01, 1000.0, thread=t) for t in range(5)])
    assert split["peak_in_view"] == 5
    assert split["view_threads"] == 5


def test_view_split_without_headers() -> None:
    assert view_split([rec(0.0, 5.0)])["mean_queue_ms"] is None


def test_back_to_back_intervals_do_not_overlap() -> None:
    assert peak_overlap([(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]) == 1
    assert peak_overlap([(0.0, 2.0), (1.0, 3.0), (1.5, 1.6)]) == 3


def test_by_request_splits_a_mix_by_entry_and_shares_the_runs_time() -> None:
    records = [
        Record(0.0, 100.0, 200, 1, entry=0),
        Record(0.0, 300.0, 200, 1, entry=0),
        Record(0.5, 500.0, 500, 1, "HTTP 500", entry=1),
        Record(1.0, 1000.0, 201, 1, entry=2),
    ]
    rows = metrics.by_request(records, [("GET", "/a/", False), ("GET", "/b/", True), ("POST", "/c/", False)])
    assert [(r["method"], r["path"], r["async"]) for r in rows] == [("GET", "/a/", False), ("GET", "/b/", True),
                                                                  ("POST", "/c/", False)]  # fmt: skip
    assert [r["completed_requests"] for r in rows] == [2, 1, 1]
    assert [r["total_errors"] for r in rows] == [0, 1, 0]
    assert rows[0]["mean_latency_ms"] == 200.0 and rows[0]["p50_ms"] == 200.0
    assert [r["effective_rps"] for r in rows] == [1.0, 0.5, 0.5]  # over the run's 2 s, summing to its RPS
    assert set(rows[0]) == {"method", "path", "completed_requests", "total_errors", "mean_latency_ms", "p50_ms",
                            "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "effective_rps", "async"}  # fmt: skip


def test_by_request_of_an_entry_nothing_was_sent_to() -> None:
    (row,) = metrics.by_request([Record(0.0, 1.0, 200, 1)], [("GET", "/a/", None)])
    assert row["completed_requests"] == 0 and row["mean_latency_ms"] is None
