from dataclasses import replace
from pathlib import Path

import pytest

from djload import report
from djload.ideal import NO_MODEL, TOLERANCE, compare, ideal, simulate, slots, total_given_spread
from djload.sites import BUNDLED, View, Work
from djload.summary import Row


def test_one_sync_worker_serialises_the_talks_ten_requests() -> None:
    # The talk: 10 requests at once, 2 s sleep, one WSGI worker → 20 s total, (10 + 1) / 2 × 2 s mean.
    model = ideal("wsgi", 1, 1, "/sync/blocking/", users=10, requests_per_user=1, sleep_s=2.0)
    assert model is not None
    assert model.total_time_s == pytest.approx(20.0)
    assert model.mean_latency_ms == pytest.approx(11000.0)
    assert model.slots == 1


@pytest.mark.parametrize("path", ["/async/non-blocking/", "/sync/blocking/", "/async/blocking/"])
def test_wsgi_serialises_every_sleeping_view(path: str) -> None:
    model = ideal("wsgi", 1, 1, path, 10, 1, 2.0)
    assert model is not None and model.total_time_s == pytest.approx(20.0)


def test_workers_and_threads_run_waves() -> None:
    # 10 requests, 2 workers × 4 threads = 8 slots: a wave of 8, then 2 more.
    model = ideal("wsgi-gthread", 2, 4, "/sync/blocking/", 10, 1, 1.0)
    assert model is not None
    assert model.total_time_s == pytest.approx(2.0)
    assert model.mean_latency_ms == pytest.approx((8 * 1.0 + 2 * 2.0) / 10 * 1000)
    # Threads mean nothing to the sync worker: two workers are two at a time.
    two = ideal("wsgi", 2, 4, "/sync/blocking/", 10, 1, 1.0)
    assert two is not None and two.total_time_s == pytest.approx(5.0)
    assert two.mean_latency_ms == pytest.approx(3000.0)


@pytest.mark.parametrize("mode", ["asgi", "asgi-native", "uvicorn"])
def test_asgi_overlaps_async_and_sync_views_but_not_the_blocking_mistake(mode: str) -> None:
    for path in ("/async/non-blocking/", "/sync/blocking/"):
        model = ideal(mode, 1, 1, path, 10, 1, 2.0)
        assert model is not None
        assert (model.slots, model.total_time_s, model.mean_latency_ms) == (None, 2.0, 2000.0)
    blocked = ideal(mode, 1, 1, "/async/blocking/", 10, 1, 2.0)
    assert blocked is not None and blocked.total_time_s == pytest.approx(20.0)
    assert slots(mode, 3, 1, "/async/blocking/")[0] == 3


def test_closed_loop_with_several_requests_per_user() -> None:
    # 2 users × 3 requests on one slot: the six requests run back to back, 6 s in all.
    requests = simulate(users=2, requests_per_user=3, service_s=1.0, slot_count=1)
    assert len(requests) == 6
    assert max(done for _, done in requests) == pytest.approx(6.0)
    # With enough slots every request takes exactly the service time.
    assert {done - sent for sent, done in simulate(4, 5, 0.5, None)} == {0.5}


def test_cpu_bound_and_unknown_endpoints_have_no_model() -> None:
    assert ideal("wsgi", 1, 1, "/sync/computation/", 10, 1, 2.0) is None
    assert (
        compare({"server_mode": "wsgi", "endpoint": "/sync/computation/?times=10", "users": 10})["deviates_from_ideal"]
        is None
    )


def test_compare_flags_deviations_beyond_ten_percent() -> None:
    entry = {
        "server_mode": "wsgi", "workers": 1, "threads": 1, "endpoint": "/sync/blocking/",
        "users": 10, "requests_per_user": 1, "sleep_s": 2.0,
    }  # fmt: skip
    talk = compare({**entry, "total_time_s": 20.035, "mean_latency_ms": 11018.5})
    assert talk["ideal_total_time_s"] == pytest.approx(20.0)
    assert talk["ideal_mean_latency_ms"] == pytest.approx(11000.0)
    assert talk["deviates_from_ideal"] is False
    slow = compare({**entry, "total_time_s": 20.0 * (1 + TOLERANCE + 0.01), "mean_latency_ms": 11000.0})
    assert slow["deviates_from_ideal"] is True


def test_an_uneven_spread_over_workers_explains_a_longer_run() -> None:
    # 2 workers × 4 threads, but one worker accepted 9 of the 10 connections: 3 waves of 4, not 2.
    assert total_given_spread([9, 1], 4, 1.0) == pytest.approx(3.0)
    entry = {
        "server_mode": "wsgi-gthread", "workers": 2, "threads": 4, "endpoint": "/sync/blocking/",
        "users": 10, "requests_per_user": 1, "sleep_s": 1.0, "total_time_s": 3.03, "mean_latency_ms": 1620.0,
        "requests_per_worker": [9, 1],
    }  # fmt: skip
    result = compare(entry)
    assert result["deviates_from_ideal"] is True
    assert result["ideal_total_time_s"] == pytest.approx(2.0)
    assert result["ideal_total_time_given_spread_s"] == pytest.approx(3.0)
    # The event loop stalled by time.sleep: 7 of 10 on one worker take 7 sleeps.
    blocked = compare({**entry, "server_mode": "asgi", "endpoint": "/async/blocking/", "requests_per_worker": [7, 3]})
    assert blocked["ideal_total_time_given_spread_s"] == pytest.approx(7.0)


def test_a_user_projects_path_named_like_the_talks_gets_no_ideal(tmp_path: Path) -> None:
    # A project of the user's own with a /sync/blocking/ of its own: the path says nothing of its work.
    project = replace(
        BUNDLED, name="mine", folder=tmp_path / "mine", settings="mine.settings", project=True,
        views=(View("/sync/blocking/", Work.UNKNOWN, is_async=False),),
    )  # fmt: skip
    asked = {
        "scenario": "mine", "server_mode": "wsgi", "workers": 1, "threads": 1, "endpoint": "/sync/blocking/",
        "users": 10, "requests_per_user": 1, "sleep_s": 2.0,
    }  # fmt: skip
    measured = {"total_time_s": 20.0, "mean_latency_ms": 11000.0, "status": "completed"}
    row = Row.from_json({**asked, **measured, "site": project.label}, "test")
    assert row.asked.site == f"{tmp_path / 'mine'} (mine.settings)"
    assert Row.from_json(row.to_json(), "again").asked.site == project.label  # kept in summary.json
    assert compare(row.to_json()) == NO_MODEL
    run = report.Run(report.enrich(row, [], tmp_path), [])
    assert run.row.ideal.ideal_total_time_s is None and run.row.ideal.ideal_rule == ""
    assert report.slide_table([run]).rows[0][-3:] == ["-", "-", "-"]
    assert report.time_table([run]).rows[0][-2] == "-"  # no "ideal: at once"
    text = str(report.sections(tmp_path, [run])[0].blocks[0])
    assert "ideal model applies only to views whose work djload knows" in text and project.label in text

    # A computation path on the project is no point of the talk's CPU sweep either (on the bundled site it is).
    def sweep(site: str) -> list[report.Run]:
        rows = [
            {**asked, **measured, "scenario": f"s{n}", "endpoint": f"/sync/computation/?times={n}"} for n in (1, 2, 3)
        ]
        return [report.Run(Row.from_json({**entry, "site": site}, "test"), []) for entry in rows]

    assert report.sweep_series(sweep(project.label)) == []
    assert [series.times for series in report.sweep_series(sweep(BUNDLED.name))] == [[1, 2, 3]]
    # The bundled site's row, and a row written before rows named their site, keep the talk's ideal.
    for talk in ({**asked, **measured, "site": BUNDLED.name}, {**asked, **measured}):
        bundled = Row.from_json(talk, "test")
        assert bundled.asked.site == BUNDLED.name
        assert compare(bundled.to_json())["ideal_total_time_s"] == pytest.approx(20.0)
        assert "applies only" not in str(report.sections(tmp_path, [report.Run(bundled, [])])[0].blocks[0])
