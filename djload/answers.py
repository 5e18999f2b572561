"""Which server mode served each kind of view best, and where the ideal model and the measurement disagree.

Read from summary rows (as JSON objects), so the report and the manual's table say the same thing. Rows
are grouped by what a reader compares: the view's kind (the site's catalog says it), the database (for
the database views) and the swarm's size; within a group the modes are ranked by effective RPS, the
slide's throughput metric, among the runs that completed.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from djload.modes import MODES
from djload.sites import BUNDLED, Site

RowData = Mapping[str, Any]


@dataclass(frozen=True)
class Ranked:
    """One group of comparable runs, best first."""

    view: str  # the view's kind in the talk's words, with its path
    database: str  # "" for views that use none
    users: int
    rows: tuple[RowData, ...]  # completed runs, by effective RPS, best first
    failed: tuple[RowData, ...]  # runs of the group that did not complete

    @property
    def best(self) -> RowData:
        return self.rows[0]

    def margin(self) -> float | None:
        """How many times the best mode's RPS is the runner-up's; None with one mode."""
        if len(self.rows) < 2 or not self.rows[1].get("effective_rps"):
            return None
        return float(self.best["effective_rps"]) / float(self.rows[1]["effective_rps"])


def database_label(row: RowData) -> str:
    database = row.get("database") or {}
    if not database:
        return ""
    label = f"{database.get('engine')} {database.get('version') or ''}".strip()
    if database.get("pool"):
        label += ", pool"
    if database.get("conn_max_age"):
        label += f", CONN_MAX_AGE {database['conn_max_age']}"
    return label


def server_label(row: RowData) -> str:
    mode, workers, threads = row.get("server_mode", "?"), row.get("workers", 1), row.get("threads", 1)
    label = f"{mode} ×{workers}" if workers and workers != 1 else str(mode)
    known = MODES.get(str(mode))
    return label + (f" ({threads} threads)" if known and known.uses_threads else "")


def rank(rows: Iterable[RowData], site: Site = BUNDLED) -> list[Ranked]:
    """Groups of comparable runs of the database and upstream views, each ranked best first."""
    groups: dict[tuple[str, str, int], list[RowData]] = defaultdict(list)
    for row in rows:
        path = str(row.get("endpoint", "")).split("?")[0]
        view = site.view(path)
        if view is None or not (view.needs_database or view.needs_upstream):
            continue
        database = database_label(row) if view.needs_database else ""
        groups[(f"{view.kind} ({path})", database, int(row.get("users") or 0))].append(row)
    ranked = []
    for (view_kind, database, users), members in sorted(groups.items()):
        done = [row for row in members if row.get("status") == "completed" and row.get("effective_rps")]
        done.sort(key=lambda row: -float(row["effective_rps"]))
        failed = tuple(row for row in members if row not in done)
        if done:
            ranked.append(Ranked(view_kind, database, users, tuple(done), failed))
    return ranked


def disagreements(rows: Iterable[RowData]) -> list[RowData]:
    """The runs whose measurement is further than the ideal model's tolerance from its prediction."""
    return [row for row in rows if row.get("deviates_from_ideal")]


def _pct(measured: Any, ideal: Any) -> str:
    if not isinstance(measured, int | float) or not isinstance(ideal, int | float) or not ideal:
        return "-"
    return f"{(measured - ideal) / ideal * 100:+.0f}%"


INTRO = (
    "Each kind of view, by database and swarm size: the server modes ranked by effective RPS (completed runs "
    "only), the best one's margin over the runner-up, and its mean latency."
)
RANKING_HEADERS = ["view", "database", "users", "best mode", "RPS", "× runner-up", "mean latency", "ranking (RPS)"]
DISAGREEMENT_HEADERS = ["scenario", "server", "endpoint", "total time (vs ideal)", "mean latency (vs ideal)", "rule"]
NO_DISAGREEMENT = "Nowhere beyond the model's tolerance: every modelled run (the upstream views) is within it."
NOTE = (
    "The database views have no ideal: their time is the database's and the driver's, measured. The upstream "
    "views follow the sleeping views' rules, with the upstream's wait as the sleep."
)


def ranking_rows(ranked: list[Ranked]) -> list[list[str]]:
    rows = []
    for group in ranked:
        best, margin = group.best, group.margin()
        ranking = ", ".join(f"{server_label(row)} {float(row['effective_rps']):.1f}" for row in group.rows)
        if group.failed:
            ranking += "; failed: " + ", ".join(server_label(row) for row in group.failed)
        rows.append([
            group.view, group.database or "-", str(group.users), server_label(best),
            f"{float(best['effective_rps']):.1f}", f"{margin:.2f}×" if margin else "-",
            f"{float(best.get('mean_latency_ms') or 0):.1f} ms", ranking,
        ])  # fmt: skip
    return rows


def disagreement_rows(rows: Iterable[RowData], site: Site = BUNDLED) -> list[list[str]]:
    """The I/O views' runs further from the ideal model than its tolerance."""
    table = []
    for row in disagreements(rows):
        view = site.view(str(row.get("endpoint", "")).split("?")[0])
        if view is None or not (view.needs_database or view.needs_upstream):
            continue
        total = _pct(row.get("total_time_s"), row.get("ideal_total_time_s"))
        mean = _pct(row.get("mean_latency_ms"), row.get("ideal_mean_latency_ms"))
        table.append([
            str(row.get("scenario")), server_label(row), str(row.get("endpoint")),
            f"{float(row.get('total_time_s') or 0):.3f} s ({total})",
            f"{float(row.get('mean_latency_ms') or 0):.1f} ms ({mean})", str(row.get("ideal_rule")),
        ])  # fmt: skip
    return table
