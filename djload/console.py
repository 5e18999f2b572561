"""Summary rows → what the terminal shows: the slide's table and the warnings under it. No matplotlib here,
so that a run prints its table without waiting for the report's imports."""

from djload import headroom, thresholds
from djload.summary import COMPARED, HEADROOM_METRICS, SLIDE_METRICS, Row, percent


def table(rows: list[Row]) -> str:
    """The slide's five numbers per scenario; the talk's own numbers on the line below when known.

    Measured total time and mean latency show how far they are from the talk's, in percent.
    """
    metrics = SLIDE_METRICS + HEADROOM_METRICS
    header = ["scenario", "server", "endpoint", "status"] + [metric.column for metric in metrics]
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
        if row.headroom.generator_bound:
            lines[-1][-1] += " GENERATOR-BOUND"
        if expected:
            lines.append(["", "", "", "talk"] + [metric.cell(expected.get(metric.key)) for metric in SLIDE_METRICS])
            lines[-1] += [""] * (len(header) - len(lines[-1]))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


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
        for check in row.breaches:
            lines.append(f"THRESHOLD BREACHED: {row.name}: {thresholds.describe(check)}")
    return lines
