"""`djload run`'s RPS against wrk's on a freshly booted server: what a user reads, side by side.

    .venv/bin/python benchmarks/run_vs_wrk.py [SCENARIO] [--rounds N] [--wrk-first]

Each round runs `djload run SCENARIO` in a fresh process (its own boot, warm-up and swarm: the number a
user reads is the row's effective_rps), and then boots the same scenario's server afresh, as `djload
serve` does, with the same CPU placement, and runs wrk on the generator's CPUs with as many connections
as the swarm has users, for as long as the swarm runs. The two alternate, so each ratio sees the same
machine; the last line is the median of the rounds' djload/wrk ratios.

Where the difference comes from is printed too, from djload's own per-request records: the RPS of the
run's first and last half second against the steady part between them (the server's first requests
after a boot, the users' start and end), and the generator's CPU.

Needs wrk (Debian/Ubuntu: apt-get install wrk). Default scenario: the throughput scenario.
"""

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from djload import ROOT, headroom, processes, records, servers
from djload.scenario import load_file

DEFAULT = ROOT / "scenarios" / "throughput" / "wsgi-sync-computation.yaml"
EDGE_S = 0.5  # the part of each end of the window reported apart from the steady middle


def wrk_rps(url: str, connections: int, duration_s: float, cpus: tuple[int, ...]) -> float:
    argv = processes.pinned(["wrk", "-t1", f"-c{connections}", f"-d{duration_s:g}s", url], cpus)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    return float(match.group(1))


def djload_run(scenario_file: Path, out: Path) -> tuple[dict[str, object], list[records.Record], float]:
    """The row `djload run` wrote, its per-request records, and the share of a CPU djload's own process used
    while the swarm ran (sampling the servers and locust, waiting for locust)."""
    argv = [sys.executable, "-m", "djload.cli", "run", str(scenario_file), "--out", str(out)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples: list[tuple[float, float]] = []  # its own CPU, not its children's
    while process.poll() is None:
        times = headroom.process_times(process.pid)
        if times:
            samples.append((time.time(), times.cpu_s))
        time.sleep(0.05)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"djload run failed ({process.returncode}):\n{output}")
    row = json.loads((out / "summary.json").read_text())[0]
    recs = list(records.read_all([out / str(row["scenario"]) / "requests.csv"]))
    begin, end = min(r.start for r in recs), max(r.end for r in recs)
    during = [cpu for when, cpu in samples if begin <= when <= end]
    return row, recs, (during[-1] - during[0]) / (end - begin) if len(during) > 1 else 0.0


def parts(recs: list[records.Record]) -> tuple[float, float, float]:
    """RPS of the first EDGE_S, of the steady middle, and of the last EDGE_S of the window (by answer time)."""
    begin, end = min(r.start for r in recs), max(r.end for r in recs)
    first = sum(1 for r in recs if r.end < begin + EDGE_S) / EDGE_S
    last = sum(1 for r in recs if r.end >= end - EDGE_S) / EDGE_S
    middle = sum(1 for r in recs if begin + EDGE_S <= r.end < end - EDGE_S) / (end - begin - 2 * EDGE_S)
    return first, middle, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds (default 3)")
    parser.add_argument("--wrk-first", action="store_true", help="wrk before djload in each round")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed; on Debian or Ubuntu: apt-get install wrk", file=sys.stderr)
        return 2
    scenario = load_file(args.scenario)
    duration = scenario.swarm.duration_s
    if duration is None or scenario.swarm.model != "closed":
        print(f"{args.scenario}: needs a closed-model scenario with swarm.duration", file=sys.stderr)
        return 2
    cpus = scenario.cpus
    print(f"{args.scenario}: {scenario.swarm.users} connections, {duration:g} s, server CPUs "
          f"{list(cpus.server) or 'all'}, generator CPUs {list(cpus.generator) or 'all'}")  # fmt: skip
    ratios = []
    with tempfile.TemporaryDirectory(prefix="djload-run-vs-wrk-") as tmp:
        for n in range(1, args.rounds + 1):
            load = Path("/proc/loadavg").read_text().split()[0]

            def wrk() -> float:
                with servers.serve(servers.ServerSpec(scenario, Path(tmp) / f"serve-{n}")) as server:  # noqa: B023
                    return wrk_rps(server.base_url + scenario.endpoint.url_path, scenario.swarm.users,
                                   duration, scenario.cpus.generator)  # fmt: skip

            (Path(tmp) / f"serve-{n}").mkdir()
            wrk_first = wrk() if args.wrk_first else None
            row, recs, own_cpu_s = djload_run(args.scenario, Path(tmp) / f"run-{n}")
            wrk_rps_ = wrk_first if wrk_first is not None else wrk()
            rps = float(row["effective_rps"])  # type: ignore[arg-type]
            first, middle, last = parts(recs)
            ratios.append(rps / wrk_rps_)
            print(f"round {n} (load {load}): djload {rps:.0f} RPS, wrk {wrk_rps_:.0f}, ratio {ratios[-1]:.3f}; "
                  f"djload first {EDGE_S:g} s {first:.0f}, steady {middle:.0f} ({middle / wrk_rps_:.3f} of wrk), "
                  f"last {EDGE_S:g} s {last:.0f}; generator busy {row.get('generator_busy_percent')}%, "
                  f"server CPU {row.get('server_cpu_percent')}%; djload's own {own_cpu_s:.1%} of a CPU")  # fmt: skip
            time.sleep(0.5)
    print(f"djload/wrk RPS ratio: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
