"""Progress of a long run on a terminal: which scenario runs, how many are done, time elapsed.

Shown only when stderr is a terminal; otherwise (CI, a pipe, a log file) nothing is printed, so logs
hold results and problems only.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Tracker(Protocol):
    def start(self, name: str) -> None: ...
    def done(self) -> None: ...


class _Quiet:
    def start(self, name: str) -> None:
        pass

    def done(self) -> None:
        pass


class _Bar:
    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=total)

    def start(self, name: str) -> None:
        self.progress.update(self.task, description=name)

    def done(self) -> None:
        self.progress.advance(self.task)


@contextmanager
def tracker(total: int, enabled: bool | None = None) -> Iterator[Tracker]:
    """A progress bar over total scenarios on stderr when it is a terminal, else a tracker that prints nothing."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _Quiet()
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("scenarios"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        yield _Bar(progress, total)
