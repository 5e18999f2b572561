"""The site's log lines in server.log → how many threads served the views and how many ran at once.

The views log ``starting <kind>`` when they begin and ``resuming <kind> - Running in thread: N`` when
they are done (settings.LOGGING: ``<asctime> [<pid>] <message>``). Every line is one write by one
process, so the file's order is the order in which the events happened. Reading the lines in order
gives the talk's point as numbers: under ASGI a sync view gets a thread per request and all of them are
inside the view at once, an async view runs all at once on the event loop's one thread, and a WSGI
sync worker lets one request in at a time. Timestamps are not used: Django logs them in its own
TIME_ZONE with millisecond resolution, and the order is all that is needed.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \[(?P<pid>\d+)\] "
    r"(?P<event>starting|resuming) (?P<kind>[\w-]+)(?: - Running in thread: (?P<thread>\d+))?\s*$"
)


@dataclass(frozen=True)
class ViewEvent:
    pid: int
    event: str  # "starting" or "resuming"
    kind: str  # "sync", "async", "async-blocking"
    thread: int | None  # on "resuming" lines only


@dataclass(frozen=True)
class LogStats:
    views_started: int = 0
    views_finished: int = 0
    threads: frozenset[int] = field(default_factory=frozenset)
    workers: frozenset[int] = field(default_factory=frozenset)
    peak_in_view: int = 0  # most requests inside a view at once, over all workers
    peak_in_view_per_worker: int = 0  # the same inside any one worker process

    def as_summary(self) -> dict[str, Any]:
        """summary.json keys; None where the log has no view lines (e.g. the computation views)."""
        seen = self.views_started > 0
        return {
            "log_views_started": self.views_started,
            "log_distinct_threads": len(self.threads) if seen else None,
            "log_distinct_workers": len(self.workers) if seen else None,
            "log_peak_in_view": self.peak_in_view if seen else None,
        }


def parse(lines: Iterable[str]) -> list[ViewEvent]:
    events = []
    for line in lines:
        match = LINE.match(line)
        if match:
            thread = match["thread"]
            events.append(ViewEvent(int(match["pid"]), match["event"], match["kind"], int(thread) if thread else None))
    return events


def analyse(events: Iterable[ViewEvent]) -> LogStats:
    inside: dict[int, int] = {}
    total = peak = peak_one = started = finished = 0
    threads: set[int] = set()
    workers: set[int] = set()
    for event in events:
        workers.add(event.pid)
        step = 1 if event.event == "starting" else -1
        if step > 0:
            started += 1
        else:
            finished += 1
            if event.thread is not None:
                threads.add(event.thread)
        # A log that starts mid-request (a truncated file) must not drive the count below zero.
        inside[event.pid] = max(0, inside.get(event.pid, 0) + step)
        total = sum(inside.values())
        peak, peak_one = max(peak, total), max(peak_one, inside[event.pid])
    return LogStats(started, finished, frozenset(threads), frozenset(workers), peak, peak_one)


def read(path: Path) -> LogStats:
    """The stats of one server.log; an absent log (the server never started) gives empty stats."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return LogStats()
    return analyse(parse(text.splitlines()))
