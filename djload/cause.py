"""Why a run's requests failed, in the words of its first line: the most common error, and the server's own.

"9 requests failed: HTTP 500, You cannot use AsyncToSync …" says more than "9 requests failed": the
most common kind of error among the records (an HTTP status, a read timeout, a refused or reset
connection) and, for a 5xx, the exception the server's log shows most often (the last line of its
tracebacks). Read timeouts of a view that calls the upstream are the upstream's: the site waited for it.
"""

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from djload.masking import masked
from djload.records import Record

QUOTE_CHARS = 120  # of the server's exception line
# The last line of a Python traceback in a server's log: "ValueError: ...", "django.core...Error: ...".
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Z]\w*(?:Error|Exception|Operation|Warning|Interrupt)): (.+)$")
_STATUS = re.compile(r"\b([1-5]\d\d)\b (?:Server|Client) Error|^CatchResponseError: HTTP ([1-5]\d\d)\b")


def kind(record: Record) -> str:
    """A failed record's kind of error, as a first line says it: "HTTP 500", "read timeout", ..."""
    error = record.error
    status = record.status if record.status >= 400 else 0
    if not status and (found := _STATUS.search(error)):
        status = int(found.group(1) or found.group(2))
    if status:
        return f"HTTP {status}"
    lowered = error.lower()
    if "connecttimeout" in lowered or "connect timeout" in lowered:
        return "connect timeout"
    if "timed out" in lowered or "timeout" in lowered:
        return "read timeout"
    if "refused" in lowered:
        return "connection refused"
    if "reset" in lowered or "remotedisconnected" in lowered or "closed connection" in lowered:
        return "connection reset"
    # A check of the locustfile's own (a login page, a missing text) says what it found; a secret it quotes is masked.
    said = masked(" ".join(error.removeprefix("CatchResponseError: ").split()))
    return said[:QUOTE_CHARS] or f"HTTP {record.status}"


def kinds(records: Sequence[Record]) -> Counter[str]:
    return Counter(kind(record) for record in records if not record.ok)


def server_exception(log: Path | None) -> str:
    """The exception line the server's log shows most often ("" without one): what a 5xx was."""
    if log is None or not log.is_file():
        return ""
    found: Counter[str] = Counter()
    with log.open(errors="replace") as lines:
        for line in lines:
            if match := _EXCEPTION.match(line.strip()):
                found[f"{match.group(1)}: {match.group(2)}"] += 1
    if not found:
        return ""
    line = found.most_common(1)[0][0]
    # The message alone reads best ("You cannot call this from an async context …"), its class names it.
    message = line.split(": ", 1)[1]
    return message if len(message) <= QUOTE_CHARS else message[: QUOTE_CHARS - 1] + "…"


def failures(records: Sequence[Record], log: Path | None = None, upstream: bool = False) -> str:
    """The most common error, for "N requests failed: <this>": "HTTP 500, <the server's exception>",
    "the upstream did not answer: 36 read timeouts", "read timeout", ... ("" when none failed)."""
    counted = kinds(records)
    if not counted:
        return ""
    (most, count), others = counted.most_common(1)[0], sum(counted.values())
    if most == "read timeout" and upstream:
        text = f"the upstream did not answer: {count} read timeouts"
    elif most == "read timeout":
        text = f"the server did not answer: {count} read timeouts"
    else:
        text = most
        if most.startswith("HTTP 5") and (exception := server_exception(log)):
            text += f", {exception}"
    return text + (f" ({count} of {others})" if count != others else "")
