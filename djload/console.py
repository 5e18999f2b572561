"""Summary rows → what the terminal shows: the slide's table and the warnings under it. No matplotlib here,
so that a run prints its table without waiting for the report's imports."""

from djload import capacityreport, headroom, thresholds
from djload.summary import COMPARED, HEADROOM_METRICS, SLIDE_METRICS, Row, cell, percent


def table(rows: list[Row]) -> str:
    """The slide's five numbers per scenario; the talk's own numbers on the line below when known.

    Measured total time and mean latency show how far they are from the talk's, in percent.
    """
    metrics = SLIDE_METRICS + HEADROOM_METRICS
    header = ["scenario", "server", "endpoint", "status"] + [metric.column for metric in metrics]
    searched = any(row.search.capacity_steps is not None for row in rows)
    if searched:  # a search's row: its numbers are those of the step at capacity
        header.insert(4, "capacity")
    lines = [header]
    for row in rows:
        asked, expected = row.asked, row.asked.expected
        cells = []
        for metric in metrics:
            value = row.value(metric.key)
            change = percent(value, expected.get(metric.key), missing="") if metric.key in COMPARED else ""
            cells.append(metric.cell(value) + (f" ({change})" if change else ""))
        status = "BREACHED" if row.completed and row.breaches else row.status.status
        lines.append([asked.scenario, asked.server_mode, asked.endpoint, status] + cells)
        if searched:
            lines[-1].insert(4, capacityreport.cell_of(row))
        share = row.reference_share
        if share is not None:
            lines[-1][-1] += f" · {share:.0%} of {row.headroom.reference_tool}"
        if row.headroom.generator_bound:
            lines[-1][-1] += " GENERATOR-BOUND"
        if expected:
            lines.append(
                ["", "", "", "talk"]
                + [""] * searched
                + [metric.cell(expected.get(metric.key)) for metric in SLIDE_METRICS]
            )
            lines[-1] += [""] * (len(header) - len(lines[-1]))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


BY_REQUEST_COLUMNS = (
    ("completed", "completed_requests", "{:.0f}"),
    ("errors", "total_errors", "{:.0f}"),
    ("mean latency", "mean_latency_ms", "{:.1f} ms"),
    ("p50", "p50_ms", "{:.1f} ms"),
    ("p90", "p90_ms", "{:.1f} ms"),
    ("p99", "p99_ms", "{:.1f} ms"),
    ("RPS", "effective_rps", "{:.2f}"),
)


def by_request_rows(row: Row) -> list[list[str]]:
    """A mix's per-request lines (request, view, then the columns), for the terminal and the report alike."""
    lines = []
    for entry in row.measured.by_request or []:
        is_async = entry.get("async")
        view = "-" if is_async is None else "async" if is_async else "sync"
        request = f"{entry['method']} {entry['path']}"
        lines.append([request, view] + [cell(entry.get(key), fmt) for _, key, fmt in BY_REQUEST_COLUMNS])
    return lines


def by_request_table(rows: list[Row]) -> str:
    """Per scenario with a mix: each entry's own numbers (the table above is over the whole mix)."""
    blocks = []
    header = ["request", "view"] + [title for title, _, _ in BY_REQUEST_COLUMNS]
    for row in rows:
        lines = by_request_rows(row)
        if not lines:
            continue
        lines = [header, *lines]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = "\n".join(
            "  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
        )
        blocks.append(f"\n{row.name}, per request:\n{text}")
    return "\n".join(blocks)


def warnings(rows: list[Row]) -> list[str]:
    """Lines printed under the table: the spread of repeated runs, and every reason to doubt a number."""
    lines: list[str] = []
    for row in rows:
        spreads = row.repeated.spread if row.repeated else {}
        if row.repeated and spreads:
            lines.append(f"\n{row.name}: {row.repeated.repeat} runs, median (min … max, rel std dev):")
            for key, s in spreads.items():
                lines.append(
                    f"  {key:<26} {s['median']:>12.3f}  ({s['min']:.3f} … {s['max']:.3f}, {s['rel_std_dev']:.1%})"
                )
        for key in row.repeated.unstable if row.repeated else []:
            lines.append(
                f"WARNING: {row.name}: {key} varies by {spreads[key]['rel_std_dev']:.1%} between runs "
                "(rel std dev > 10%): the result may be unstable; rerun with more --repeat, a longer run, "
                "warm-up requests or pinned CPUs (--server-cpus/--generator-cpus), on a quieter machine."
            )
        if row.headroom.generator_bound:
            lines.append("WARNING: " + headroom.advice(row.to_json()))
        if row.search.capacity_limited_by == "generator":
            lines.append("WARNING: " + capacityreport.advice(row))
        for check in row.breaches:
            lines.append(f"THRESHOLD BREACHED: {row.name}: {thresholds.describe(check)}")
    return lines
