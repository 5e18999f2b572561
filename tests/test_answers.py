"""The report's answer: which mode served each kind of I/O view best, by how much, and where the model disagrees."""

from typing import Any

from djload import answers


def _row(mode: str, path: str, rps: float, **more: Any) -> dict[str, Any]:
    row = {
        "scenario": f"{mode}{path}",
        "server_mode": mode,
        "workers": 1,
        "threads": 10,
        "endpoint": path,
        "users": 100,
        "status": "completed",
        "effective_rps": rps,
        "mean_latency_ms": 1000 / rps,
        "database": {"engine": "postgresql", "version": "15.18", "pool": False, "conn_max_age": 0},
    }
    return row | more


def test_modes_are_ranked_per_view_database_and_swarm() -> None:
    rows = [
        _row("asgi", "/http/async/", 400.0),
        _row("wsgi-gthread", "/http/async/", 45.0),
        _row("hypercorn", "/http/async/", 200.0),
        _row("asgi", "/db/sync/", 300.0),
        _row("wsgi-gthread", "/db/sync/", 600.0),
        _row("wsgi-gthread", "/db/sync/", 500.0, database={"engine": "sqlite", "version": "3.40.1"}),
        _row("wsgi", "/db/sync/", 1.0, status="failed"),
        _row("asgi", "/async/non-blocking/", 5.0),  # a talk view: not an I/O answer
    ]
    ranked = answers.rank(rows)
    assert [(group.view, group.database) for group in ranked] == [
        ("async, upstream HTTP (/http/async/)", ""),
        ("sync, database read (/db/sync/)", "postgresql 15.18"),
        ("sync, database read (/db/sync/)", "sqlite 3.40.1"),
    ]
    http, postgres, _ = ranked
    assert [row["server_mode"] for row in http.rows] == ["asgi", "hypercorn", "wsgi-gthread"]
    assert http.margin() == 2.0
    assert postgres.best["server_mode"] == "wsgi-gthread" and [r["server_mode"] for r in postgres.failed] == ["wsgi"]
    table = answers.ranking_rows(ranked)
    assert table[0][:6] == ["async, upstream HTTP (/http/async/)", "-", "100", "asgi", "400.0", "2.00×"]
    assert table[1][-1].endswith("; failed: wsgi")


def test_disagreements_with_the_ideal_are_listed() -> None:
    off = _row("asgi", "/http/sync/", 10.0, total_time_s=3.0, ideal_total_time_s=2.0, deviates_from_ideal=True,
               ideal_rule="a thread per request")  # fmt: skip
    (row,) = answers.disagreement_rows([off, _row("wsgi-gthread", "/http/sync/", 9.0)])
    assert row[3] == "3.000 s (+50%)" and row[5] == "a thread per request"
    talk = _row("asgi", "/sync/blocking/", 5.0, deviates_from_ideal=True)
    assert answers.rank([talk]) == [] and answers.disagreement_rows([talk]) == []
