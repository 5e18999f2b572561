"""`locustfile: FILE`: the user's own Locust file, unchanged, instead of a `requests:` mix or an `endpoint:`.

```yaml
locustfile: journeys.py   # relative to the scenario file
swarm: {users: 10, requests_per_user: 6}   # each user stops after 6 requests (or swarm.duration: a time)
```
It runs beside locustfiles/your_locustfile.py (`-f your_locustfile.py,FILE`), which holds each of its users
at the start barrier, calls the per-user hook before their first task, and stops each user after its
requests or its time; djload's plugin records every request under its Locust name (method and name), and
those names are the entries of `by_request`, in the order they were first sent.

Here: the field's parsing and checks (the file is imported in a subprocess that imports locust, never
here: importing locust patches this process with gevent), and the records numbered by their names.
"""

import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from djload.records import Record
from djload.yamlcheck import Checker, Map, shown

IMPORT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class UserLocustfile:
    path: Path  # resolved
    line: int = field(default=0, compare=False)


def parse(checker: Checker, data: Map, source: str) -> UserLocustfile | None:
    """The `locustfile:` field: a regular file, alone (no `requests:` or `endpoint:` beside it)."""
    line = data.key_lines["locustfile"]
    for other in ("requests", "endpoint"):
        if other in data:
            checker.problem(line, "locustfile", f"give either locustfile or {other}, not both")
    value = data["locustfile"]
    if not isinstance(value, str) or not value.strip():
        checker.problem(line, "locustfile", f"must be a Locust file's path relative to this file, got {shown(value)}")
        return None
    path = (Path(source).parent / value).resolve()
    if not path.exists():
        checker.problem(line, "locustfile", f"no such file: {path}")
    elif not path.is_file():
        checker.problem(line, "locustfile", f"{path} is not a regular file; name a Locust file (.py)")
    elif "," in str(path):
        checker.problem(line, "locustfile", f"{path}: locust takes a list of files split at ',': rename it")
    else:
        return UserLocustfile(path, line)
    return None


def import_problem(locustfile: UserLocustfile, source: str) -> str | None:
    """The file imported as locust imports it, in a subprocess: None, or one line with its error's last line."""
    # Here, not at the top: loading a scenario starts no process; this check runs after (checked_projects).
    from djload import processes

    with tempfile.TemporaryDirectory(prefix="djload-locustfile-") as scratch:
        log = Path(scratch) / "import.log"
        argv = [sys.executable, "-m", "djload.locustcheck", str(locustfile.path)]
        process = processes.start(argv, log, cwd=locustfile.path.parent, env=dict(os.environ))
        try:
            deadline = time.monotonic() + IMPORT_TIMEOUT_S
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            timed_out = process.poll() is None
        finally:
            processes.stop(process)
        lines = log.read_text(errors="replace").strip().splitlines()
    where = f"{source}:{locustfile.line}: locustfile"
    if timed_out:
        return f"{where}: importing {locustfile.path.name} took more than {IMPORT_TIMEOUT_S:g} s"
    if process.returncode != 0:
        why = lines[-1] if lines else processes.describe_exit(process.returncode)
        return f"{where}: {locustfile.path.name} does not import: {why}"
    return None


def by_name(records: Sequence[Record]) -> tuple[list[Record], list[tuple[str, str, bool | None]]]:
    """The records numbered by their Locust name, and the entries (method, name, None) in the order first sent."""
    numbers: dict[str, int] = {}
    numbered = []
    for record in sorted(records, key=lambda r: r.start):
        number = numbers.setdefault(record.name, len(numbers))
        numbered.append(replace(record, entry=number))
    entries: list[tuple[str, str, bool | None]] = []
    for name in numbers:
        method, _, path = name.partition(" ")
        entries.append((method, path, None))
    return numbered, entries
