"""The capacity search against physics: for the sleeping views, found capacity over the physical one.

    .venv/bin/python benchmarks/capacity.py [SCENARIOS ...] [--results FOLDER]

Runs `djload run` on the scenarios (default: scenarios/capacity/physics, one sync worker, gthread with 4
threads and one ASGI worker on 50 ms sleeping views), or reads a results folder already written. For each
row it prints the capacity the search found, what limited it, and, where the queueing model of the mode has a
bound (djload.ideal: requests let into the view at once), the physical capacity slots / sleep and the ratio.
The last line is the ratio for every row that has one, and their median: 1.00 means the search found what
the server's concurrency allows; a little under is the server's own time per request above the sleep.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from djload import ROOT, ideal, summary

DEFAULT = ROOT / "scenarios" / "capacity" / "physics"


def physical_rps(row: summary.Row) -> float | None:
    """slots / sleep for a sleeping view whose mode bounds the requests in the view at once; None otherwise."""
    asked = row.asked
    if not asked.sleep_s:
        return None
    slots, _ = ideal.slots(asked.server_mode, asked.workers, asked.threads, asked.endpoint.split("?")[0])
    return slots / asked.sleep_s if slots else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument("--results", type=Path, help="a results folder already written: nothing is run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="djload-capacity-") as scratch:
        folder = args.results
        if folder is None:
            folder = Path(scratch) / "out"
            djload = Path(sys.executable).with_name("djload")  # the venv's entry point, beside its python
            argv = [str(djload), "run", *map(str, args.scenarios), "--out", str(folder)]
            done = subprocess.run(argv, check=False)
            if done.returncode not in (0, 4):
                return done.returncode
        rows = [row for row in summary.read_folder(folder) if row.search.capacity_steps is not None]
    ratios: list[str] = []
    values: list[float] = []
    for row in rows:
        found, bound = row.search.capacity_rps, physical_rps(row)
        line = f"{row.name}: {row.asked.server_mode} {row.asked.endpoint}: {summary.cell(found, '{:g}')} requests/s"
        line += f" ({row.search.capacity_limited_by}, {len(row.search.capacity_steps or [])} steps)"
        if bound and found:
            line += f", physical {bound:g}: {found / bound:.2f}"
            ratios.append(f"{row.asked.server_mode} {found / bound:.2f}")
            values.append(found / bound)
        print(line)
    if not values:
        print("found/physical: no sleeping view with a bounded mode was searched")
        return 1
    print(f"found/physical: {', '.join(ratios)}; median {statistics.median(values):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
