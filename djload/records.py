"""The per-request record: written by the locustfile, read by the metrics.

One CSV row per request. Times are kept unrounded: ``start`` is the wall-clock send time in
seconds since the epoch, ``latency_ms`` the client-measured response time. The server columns
come from the site's response headers and are empty when the server did not answer.
"""

import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TextIO


@dataclass(frozen=True)
class Record:
    start: float
    latency_ms: float
    status: int
    size: int
    error: str = ""
    worker_pid: int | None = None
    thread_id: int | None = None
    view_start: float | None = None
    view_ms: float | None = None
    entry: int | None = None  # which entry of a scenario's `requests:` mix it was (0-based); empty without a mix
    name: str = ""  # a user's own locustfile: "METHOD name", its Locust name (djload.userlocust); else empty

    @property
    def end(self) -> float:
        return self.start + self.latency_ms / 1000

    @property
    def ok(self) -> bool:
        return not self.error


COLUMNS = [f.name for f in fields(Record)]
# Beside the records of a distributed run: each locust worker's measure of its own process (djload.remote).
GENERATOR_REPORTS = "generator.json"
LOGINS = "logins-{pid}.json"  # each locust process's sign-ins (djload.locust_login), read by djload.swarm


def from_event(
    start: float,
    latency_ms: float,
    status: int | None,
    size: int | None,
    exception: BaseException | None,
    headers: tuple[str | None, str | None, str | None, str | None],
    entry: int | None = None,
    name: str = "",
) -> Record:
    """A record from what a locust request event saw; headers are X-Worker-Pid, -Thread-Id, -View-Start, -View-Ms."""
    pid, thread, view_start, view_ms = headers
    return Record(
        start=start,
        latency_ms=latency_ms,
        status=status or 0,
        size=size or 0,
        error=" ".join(f"{type(exception).__name__}: {exception}".split()) if exception else "",
        worker_pid=int(pid) if pid else None,
        thread_id=int(thread) if thread else None,
        view_start=float(view_start) if view_start else None,
        view_ms=float(view_ms) if view_ms else None,
        entry=entry,
        name=name,
    )


HEADERS = ("X-Worker-Pid", "X-Thread-Id", "X-View-Start", "X-View-Ms")


def _int_or_none(text: str) -> int | None:
    return int(text) if text else None


def _float_or_none(text: str) -> float | None:
    return float(text) if text else None


def _parse(row: dict[str, str]) -> Record:
    return Record(
        start=float(row["start"]),
        latency_ms=float(row["latency_ms"]),
        status=int(row["status"]),
        size=int(row["size"]),
        error=row["error"],
        worker_pid=_int_or_none(row["worker_pid"]),
        thread_id=_int_or_none(row["thread_id"]),
        view_start=_float_or_none(row["view_start"]),
        view_ms=_float_or_none(row["view_ms"]),
        entry=_int_or_none(row.get("entry") or ""),  # files written before mixes have no such column
        name=row.get("name") or "",
    )


def as_row(record: Record) -> tuple[object, ...]:
    """The record's fields in COLUMNS order (dataclasses.astuple would deep-copy each one)."""
    return tuple(map(record.__getattribute__, COLUMNS))


def dump(records: Iterable[Record], file: TextIO) -> None:
    writer = csv.writer(file)
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(["" if value is None else value for value in as_row(record)])


def write(path: Path, records: Iterable[Record]) -> None:
    """requests.csv, whole or not at all: a disk that fills up midway leaves no half file to be read as whole."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", newline="") as f:
            dump(records, f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read(path: Path) -> list[Record]:
    with path.open(newline="") as f:
        return [_parse(row) for row in csv.DictReader(f)]


def read_all(paths: Iterable[Path]) -> Iterator[Record]:
    for path in paths:
        yield from read(path)
