"""Progress of a run: which scenario runs, its requests done of expected, errors so far, time elapsed.

Three ways to show it (`djload run --progress`):
- bar: a live rich progress display on stderr, updated while each swarm runs (the default on a terminal);
- plain: one line per finished scenario on stderr, for CI logs;
- off: nothing (the default when stderr is not a terminal: a pipe, a log file), so logs hold results
  and problems only.

The live counts come from the locust processes themselves: djload's plugin writes each process's
counts to progress-<pid>.json beside its records twice a second (read_counts sums them).
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

MODES = ("auto", "bar", "plain", "off")
COUNTS_GLOB = "progress-*.json"


class Tracker(Protocol):
    def start(self, name: str, expected: int | None, run: str = "") -> None: ...
    def update(self, done: int, errors: int) -> None: ...
    def done(self, outcome: str) -> None: ...


def read_counts(records_dir: Path) -> tuple[int, int]:
    """Requests done and failed so far, summed over the run's locust processes."""
    done = errors = 0
    for path in records_dir.glob(COUNTS_GLOB):
        try:
            counts = json.loads(path.read_text())
            done, errors = done + int(counts["done"]), errors + int(counts["errors"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being replaced at this moment: the next poll reads it
    return done, errors


class _Quiet:
    def start(self, name: str, expected: int | None, run: str = "") -> None:
        pass

    def update(self, done: int, errors: int) -> None:
        pass

    def done(self, outcome: str) -> None:
        pass


class _Plain(_Quiet):
    """One line per finished scenario: `[2/6] wsgi-sync: completed, 10/10 requests, 0 errors`."""

    def __init__(self, total: int) -> None:
        self.total, self.finished, self.name = total, 0, ""

    def start(self, name: str, expected: int | None, run: str = "") -> None:
        self.name = name  # the line is the scenario's: with --repeat, its median's numbers, not one run's

    def done(self, outcome: str) -> None:
        self.finished += 1
        print(f"[{self.finished}/{self.total}] {self.name}: {outcome}", file=sys.stderr, flush=True)


class _Bar:
    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.scenarios = progress.add_task("starting", total=total, unit="scenarios", errors="")
        self.requests: TaskID | None = None

    def start(self, name: str, expected: int | None, run: str = "") -> None:
        self.progress.update(self.scenarios, description=f"{name} ({run})" if run else name)
        if self.requests is not None:
            self.progress.remove_task(self.requests)
        self.requests = self.progress.add_task("  requests", total=expected, unit="requests", errors="0 errors")

    def update(self, done: int, errors: int) -> None:
        if self.requests is not None:
            self.progress.update(self.requests, completed=done, errors=f"{errors} errors")

    def done(self, outcome: str) -> None:
        self.progress.advance(self.scenarios)


@contextmanager
def tracker(total: int, mode: str = "auto", console: Console | None = None) -> Iterator[Tracker]:
    """A tracker over total scenarios: a live bar, plain lines, or nothing (see the module's doc)."""
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "off"
    if mode == "off":
        yield _Quiet()
        return
    if mode == "plain":
        yield _Plain(total)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TextColumn("{task.fields[errors]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console or Console(stderr=True), transient=False) as progress:
        yield _Bar(progress, total)
