from pathlib import Path

from djload.serverlog import analyse, parse, read

GUNICORN_NOISE = [
    "[2026-11-26 21:25:14 +0000] [15133] [INFO] Starting gunicorn 27.0.1",
    "[2026-11-26 15:25:14 -0600] [15134] [INFO] Application startup complete.",
]


def test_asgi_sync_view_runs_a_thread_per_request_all_at_once() -> None:
    # As on the talk's slide: five starts, then five resumes from five different threads.
    lines = GUNICORN_NOISE + [f"2026-11-26 15:25:15,03{i} [15134] starting sync" for i in range(5)]
    lines += [f"2026-11-26 15:25:15,33{i} [15134] resuming sync - Running in thread: {29294 + i}" for i in range(5)]
    stats = analyse(parse(lines))
    assert (stats.views_started, stats.views_finished) == (5, 5)
    assert len(stats.threads) == 5
    assert stats.workers == {15134}
    assert stats.peak_in_view == 5


def test_asgi_async_view_runs_on_one_event_loop_thread() -> None:
    lines = ["2026-11-26 15:25:15,031 [200] starting async"] * 3
    lines += ["2026-11-26 15:25:17,031 [200] resuming async - Running in thread: 200"] * 3
    stats = analyse(parse(lines))
    assert stats.threads == {200}
    assert stats.peak_in_view == 3


def test_wsgi_lets_one_request_in_at_a_time() -> None:
    lines = []
    for _ in range(10):
        lines += ["2026-11-26 15:25:15,031 [11242] starting sync"]
        lines += ["2026-11-26 15:25:17,031 [11242] resuming sync - Running in thread: 11242"]
    stats = analyse(parse(lines))
    assert stats.peak_in_view == 1
    assert len(stats.threads) == 1
    assert stats.as_summary() == {
        "log_views_started": 10,
        "log_distinct_threads": 1,
        "log_distinct_workers": 1,
        "log_peak_in_view": 1,
    }


def test_two_workers_count_together_and_apart() -> None:
    lines = [
        "2026-11-26 15:25:15,001 [1] starting async-blocking",
        "2026-11-26 15:25:15,002 [2] starting async-blocking",
        "2026-11-26 15:25:16,001 [1] resuming async-blocking - Running in thread: 1",
        "2026-11-26 15:25:16,002 [1] starting async-blocking",
        "2026-11-26 15:25:16,003 [2] resuming async-blocking - Running in thread: 2",
        "2026-11-26 15:25:17,002 [1] resuming async-blocking - Running in thread: 1",
    ]
    stats = analyse(parse(lines))
    assert (stats.peak_in_view, stats.peak_in_view_per_worker) == (2, 1)
    assert stats.workers == {1, 2}


def test_a_log_cut_mid_request_and_a_missing_log(tmp_path: Path) -> None:
    stats = analyse(parse(["2026-11-26 15:25:17,031 [7] resuming sync - Running in thread: 8", "garbage"]))
    assert stats.peak_in_view == 0 and stats.views_finished == 1
    empty = read(tmp_path / "absent.log")
    assert empty.as_summary()["log_peak_in_view"] is None
