"""Summaries → the slide table as text (and, later, markdown and HTML)."""

from typing import Any

SLIDE_COLUMNS = (
    ("completed_requests", "completed", "{:.0f}"),
    ("total_errors", "errors", "{:.0f}"),
    ("total_time_s", "total time", "{:.3f} s"),
    ("mean_latency_ms", "mean latency", "{:.1f} ms"),
    ("effective_rps", "RPS", "{:.2f}"),
)

# The slide numbers that physics fixes; the others (counts, a rounded RPS) are compared by eye.
COMPARED = ("total_time_s", "mean_latency_ms")


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _deviation(measured: Any, expected: Any) -> str:
    if measured is None or not expected:
        return ""
    return f" ({(measured - expected) / expected * 100:+.1f}%)"


def table(results: list[dict[str, Any]]) -> str:
    """The slide's five numbers per scenario; the talk's own numbers on the line below when known.

    Measured total time and mean latency show how far they are from the talk's, in percent.
    """
    header = ["scenario", "server", "endpoint", "status"] + [title for _, title, _ in SLIDE_COLUMNS]
    rows = [header]
    for result in results:
        expected = result.get("expected") or {}
        rows.append(
            [result["scenario"], result["server_mode"], result["endpoint"], result["status"]]
            + [
                _cell(result.get(key), fmt)
                + (_deviation(result.get(key), expected.get(key)) if key in COMPARED else "")
                for key, _, fmt in SLIDE_COLUMNS
            ]
        )
        if expected:
            rows.append(["", "", "", "talk"] + [_cell(expected.get(key), fmt) for key, _, fmt in SLIDE_COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
