"""The one ASGI worker's 2 s sleep as the swarm grows: 100 → 1,000 → 10,000 users, one request each.

    .venv/bin/python benchmarks/scale.py [SCENARIO] [--sizes 100,1000,10000] [--private-net | --host-net]

Each size is `djload run` of scenarios/load/asgi-async-10000.yaml with swarm.users set to it, in a fresh
process and results folder. All requests sleep together on the one event loop, so a run's physical bound
is the sleep plus the worker's CPU for every request: sleep + completed × server CPU per request ÷ workers.
For each size it prints the total time against that bound, and the time above the sleep per request,
(total − sleep) / completed, which should stay flat as the swarm grows (the cost is linear in the work).
The machine's load average and the CPU other processes used during the run are printed beside: on a
shared machine they take CPU from the one worker, and the bound assumes it had a core to itself.

Where the largest swarm goes past a limit of the kernel's network stack (net.core.somaxconn caps the
server's listen backlog), the benchmark says so in one line and, as root with unshare and ip, runs itself
again in a network namespace of its own with net.core.somaxconn and net.ipv4.tcp_max_syn_backlog raised to
the largest swarm: the host's settings stay as they are. --private-net does that whatever the limits,
--host-net never (then djload's own warning says what to raise, and the run shows what it costs).

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
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from djload import ROOT, headroom, limits, records

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


def find_server(folder: Path, monitor: headroom.Monitor, done: threading.Event) -> None:
    """Watch the gunicorn master started for a run in folder (its command line names the folder's log) and
    its workers, as soon as it appears: the server's CPU time and its run-queue wait, sampled by djload's
    own monitor."""
    while not done.is_set():
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"gunicorn" in argv and any(str(folder).encode() in arg for arg in argv):
                monitor.watch("server", int(entry.name))
                return
        time.sleep(0.02)


def server_time(monitor: headroom.Monitor, out: Path, name: str) -> dict[str, float]:
    """The seconds of CPU the server used over the run's window (first request sent → last answer), and the
    window's length: the bound assumes the one worker ran throughout, less its requests' sleep."""
    tree = monitor.trees.get("server")
    path = out / name / "requests.csv"
    if not tree or not tree.samples or not path.exists():
        return {}
    recorded = list(records.read_all([path]))
    start, end = min(r.start for r in recorded), max(r.end for r in recorded)
    cpu, _ = tree.used(start, end)
    return {"ran": cpu, "window": end - start}


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
    finished = threading.Event()
    with headroom.Monitor() as monitor:
        watcher = threading.Thread(target=find_server, args=(tmp, monitor, finished), daemon=True)
        watcher.start()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        finally:
            finished.set()
            watcher.join()
    wall = time.monotonic() - started
    busy, stolen = cpu_s()
    others = (busy - busy_before) - (children_cpu_s() - ours_before)
    if not (out / "summary.json").exists():
        raise SystemExit(f"djload run failed with exit code {done.returncode}:\n{done.stderr[-3000:]}")
    (row,) = json.loads((out / "summary.json").read_text())
    assert isinstance(row, dict)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING")]
    return row | {"_server": server_time(monitor, out, scenario["name"]), "_wall": wall,
                  "_others_cpus": max(others, 0.0) / wall,
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
    if row["_server"]:
        # The bound is sleep + the CPU the worker used: the share of the window it ran says what held it back.
        ran, window = row["_server"]["ran"], row["_server"]["window"]
        print(f"        the server ran {ran:.2f} s of the {window:.2f} s window ({ran / window:.0%} of a CPU)")
    return float(total / bound)


def can_unshare() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("unshare")) and bool(shutil.which("ip"))


def private_net(scenario: Path, sizes: list[int]) -> int:
    """Run this benchmark again in a network namespace of its own with the listen backlogs raised (root)."""
    if not can_unshare():
        print("--private-net needs root, unshare and ip (util-linux, iproute2)", file=sys.stderr)
        return 2
    inner = [sys.executable, __file__, str(scenario), "--sizes", ",".join(map(str, sizes))]
    raised = f"net.core.somaxconn={max(sizes)} net.ipv4.tcp_max_syn_backlog={max(sizes)}"
    script = f'ip link set lo up && sysctl -qw {raised} && exec "$@"'
    env = {**os.environ, IN_PRIVATE_NET: "1"}
    return subprocess.run(["unshare", "--net", "sh", "-c", script, "sh", *inner], env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=SCENARIO, help="default: " + SCENARIO.name)
    parser.add_argument("--sizes", default="100,1000,10000", help="users per run, comma-separated")
    net = parser.add_mutually_exclusive_group()
    net.add_argument("--private-net", action="store_true", help="own network namespace, backlogs raised (root)")
    net.add_argument("--host-net", action="store_true", help="the host's network settings, whatever they are")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if not os.environ.get(IN_PRIVATE_NET) and not args.host_net:
        # Only the namespace's own settings: the backlog caps (open files and local ports are not the question).
        short = [line for line in limits.problems("the largest swarm", max(sizes), limits.read()) if "backlog" in line]
        if args.private_net:
            return private_net(args.scenario, sizes)
        if short and can_unshare():
            print(f"{short[0].split(':')[1].strip()}: raising it in a network namespace of this benchmark's own")
            return private_net(args.scenario, sizes)
    base = yaml.safe_load(args.scenario.read_text())
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
