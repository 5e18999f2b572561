"""The one ASGI worker's 2 s sleep as the swarm grows: 100 → 1,000 → 10,000 users, one request each.

    .venv/bin/python benchmarks/scale.py [--sizes 100,1000,10000] [--private-net]

Each size is `djload run` of scenarios/load/asgi-async-10000.yaml with swarm.users set to it, in a fresh
process and results folder. All requests sleep together on the one event loop, so a run's physical bound
is the sleep plus the worker's CPU for every request: sleep + completed × server CPU per request ÷ workers.
For each size it prints the total time against that bound, and the time above the sleep per request,
(total − sleep) / completed, which should stay flat as the swarm grows (the cost is linear in the work).
The machine's load average and the CPU other processes used during the run are printed beside: on a
shared machine they take CPU from the one worker, and the bound assumes it had a core to itself.

--private-net (root) runs everything in a network namespace of its own, with net.core.somaxconn raised to
the largest swarm: the host's settings stay as they are. Without it, where somaxconn is below the swarm,
djload says so before the run, and the run shows what that costs.

The last line: the largest run's total over its bound.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from djload import ROOT, limits

SCENARIO = ROOT / "scenarios" / "load" / "asgi-async-10000.yaml"
IN_PRIVATE_NET = "DJLOAD_SCALE_PRIVATE_NET"  # set in the re-executed benchmark inside its namespace


def cpu_s() -> tuple[float, float]:
    """CPU seconds all CPUs have spent running processes (user, nice, system), and stolen by the hypervisor,
    since boot (/proc/stat). Interrupts are left out: loopback traffic is counted there, whoever sends it."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return (fields[0] + fields[1] + fields[2]) / tick, fields[7] / tick


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_size(base: dict[str, Any], users: int, tmp: Path) -> dict[str, Any]:
    """One `djload run` at this many users; its summary row plus the machine's state around it."""
    scenario = {**base, "name": f"asgi-async-{users}", "swarm": {**base["swarm"], "users": users}}
    scenario["swarm"]["processes"] = min(scenario["swarm"].get("processes", 1), users)
    path = tmp / f"{scenario['name']}.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = tmp / f"out-{users}"
    argv = [str(Path(sys.executable).parent / "djload"), "run", str(path), "--out", str(out)]
    load_before, (busy_before, stolen_before), ours_before = os.getloadavg()[0], cpu_s(), children_cpu_s()
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - started
    busy, stolen = cpu_s()
    others = (busy - busy_before) - (children_cpu_s() - ours_before)
    if not (out / "summary.json").exists():
        raise SystemExit(f"djload run failed with exit code {done.returncode}:\n{done.stderr[-3000:]}")
    (row,) = json.loads((out / "summary.json").read_text())
    assert isinstance(row, dict)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING")]
    return row | {"_wall": wall, "_others_cpus": max(others, 0.0) / wall,
                  "_stolen_cpus": (stolen - stolen_before) / wall, "_load": (load_before, os.getloadavg()[0]),
                  "_warnings": warnings, "_exit": done.returncode}  # fmt: skip


def report(users: int, row: dict[str, Any], sleep: float, workers: int) -> float | None:
    """Print one size's line; returns its total over its bound."""
    completed, errors, total = row["completed_requests"], row["total_errors"], row["total_time_s"]
    cpu_ms = row.get("server_cpu_ms_per_request")
    for line in row["_warnings"]:
        print(f"  {line}")
    if not completed or cpu_ms is None:
        print(f"{users:>6} users: {row['status']}: {row.get('problem', '')}")
        return None
    bound = sleep + completed * cpu_ms / 1000 / workers
    above_ms = (total - sleep) * 1000 / completed
    load = "{:.1f} → {:.1f}".format(*row["_load"])
    print(
        f"{users:>6} users: {row['status']}, {completed} completed, {errors} errors; total {total:.2f} s, "
        f"bound {bound:.2f} s (server CPU {cpu_ms:.3f} ms/request), total/bound {total / bound:.2f}; "
        f"(total − sleep)/request {above_ms:.3f} ms; load {load}, other processes {row['_others_cpus']:.2f} CPUs"
        f"{f', stolen {stolen:.2f} CPUs' if (stolen := row['_stolen_cpus']) >= 0.01 else ''}"
    )
    return float(total / bound)


def private_net(sizes: list[int]) -> int:
    """Run this benchmark again in a network namespace of its own with somaxconn raised (root)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        print("--private-net needs root, unshare and ip (util-linux, iproute2)", file=sys.stderr)
        return 2
    inner = [sys.executable, __file__, "--sizes", ",".join(map(str, sizes))]
    script = f'ip link set lo up && sysctl -qw net.core.somaxconn={max(sizes)} && exec "$@"'
    env = {**os.environ, IN_PRIVATE_NET: "1"}
    return subprocess.run(["unshare", "--net", "sh", "-c", script, "sh", *inner], env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="users per run, comma-separated")
    parser.add_argument("--private-net", action="store_true", help="own network namespace, somaxconn raised (root)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.private_net and not os.environ.get(IN_PRIVATE_NET):
        return private_net(sizes)
    base = yaml.safe_load(SCENARIO.read_text())
    sleep, workers = float(base["sleep"]), int(base["server"].get("workers", 1))
    where = " (private network namespace)" if os.environ.get(IN_PRIVATE_NET) else ""
    print(f"net.core.somaxconn = {limits.read().somaxconn}; {os.cpu_count()} CPUs{where}")
    ratio: float | None = None
    above: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="djload-scale-") as tmp:
        for users in sizes:
            row = run_size(base, users, Path(tmp))
            ratio = report(users, row, sleep, workers)
            if row.get("completed_requests"):
                above.append((users, (row["total_time_s"] - sleep) * 1000 / row["completed_requests"]))
    if len(above) > 1:
        steps = " → ".join(f"{ms:.3f}" for _, ms in above)
        print(f"(total − sleep) per request, {above[0][0]} → {above[-1][0]} users: {steps} ms")
    if ratio is None:
        print("the largest run did not complete")
        return 1
    print(f"{sizes[-1]} users: total / physical bound = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
