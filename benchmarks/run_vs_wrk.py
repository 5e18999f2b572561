"""`djload run`'s RPS against wrk's on a freshly booted server: what a user reads, side by side.

    .venv/bin/python benchmarks/run_vs_wrk.py [SCENARIO] [--rounds N] [--wrk-first]

Each round runs `djload run SCENARIO` in a fresh process (its own boot, warm-up and swarm: the number a
user reads is the row's effective_rps), and then boots the same scenario's server afresh, as `djload
serve` does, with the same CPU placement, and runs wrk on the generator's CPUs with as many connections
as the swarm has users, for as long as the swarm runs. The two alternate, so each ratio sees the same
machine; the last line is the median of the rounds' djload/wrk ratios.

Where the difference comes from is printed too. From djload's own per-request records: the RPS of the
run's first and last half second against the steady part between them (the server's first requests
after a boot, the users' start and end), and the steady part's ratio. Per request: locust's CPU against
wrk's, and the server's CPU under djload (after the warm-up) against under wrk (no warm-up: a cold
server would cost more there). And how busy the generator's CPUs were with everything on them: where
they were near 100% while locust was well under it, other processes took the CPU locust needed.

Needs wrk (Debian/Ubuntu: apt-get install wrk). Default scenario: the throughput scenario.
"""

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from djload import ROOT, headroom, processes, records, servers
from djload.scenario import load_file

DEFAULT = ROOT / "scenarios" / "throughput" / "wsgi-sync-computation.yaml"
EDGE_S = 0.5  # the part of each end of the window reported apart from the steady middle


@dataclass(frozen=True)
class Wrk:
    rps: float
    cpu_ms: float  # wrk's own CPU per request
    server_cpu_ms: float  # the server's CPU per request while wrk ran


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_rps(server: servers.RunningServer, path: str, connections: int, duration_s: float,
            cpus: tuple[int, ...]) -> Wrk:  # fmt: skip
    """wrk as the swarm would run (its connections, duration and CPUs), with its CPU and the server's per request."""
    argv = processes.pinned(["wrk", "-t1", f"-c{connections}", f"-d{duration_s:g}s", server.base_url + path], cpus)
    with headroom.Monitor() as monitor:
        monitor.watch("server", server.process.pid)
        before, start = children_cpu_s(), time.time()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60, check=True).stdout
        end = time.time()
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    rps = float(match.group(1))
    requests = rps * (end - start)
    server_cpu_s, _ = monitor.trees["server"].used(start, end)
    return Wrk(rps, (children_cpu_s() - before) * 1000 / requests, server_cpu_s * 1000 / requests)


def cpus_busy_s(cpus: tuple[int, ...]) -> float:
    """CPU seconds these CPUs (all where empty) have spent on any work since boot, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    busy = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name != "cpu" and (not cpus or int(name[3:]) in cpus):
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
            busy += user + nice + system + irq + softirq + steal
    return busy / tick


def djload_run(
    scenario_file: Path, out: Path, cpus: tuple[int, ...]
) -> tuple[dict[str, object], list[records.Record], float, float]:
    """The row `djload run` wrote, its per-request records, the share of a CPU djload's own process used
    while the swarm ran (sampling the servers and locust, waiting for locust), and how busy the generator's
    CPUs were in all (locust and every other process on them) as a share of their time."""
    argv = [sys.executable, "-m", "djload.cli", "run", str(scenario_file), "--out", str(out)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples: list[tuple[float, float, float]] = []  # its own CPU, not its children's; the generator CPUs' busy time
    while process.poll() is None:
        times = headroom.process_times(process.pid)
        if times:
            samples.append((time.time(), times.cpu_s, cpus_busy_s(cpus)))
        time.sleep(0.05)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"djload run failed ({process.returncode}):\n{output}")
    row = json.loads((out / "summary.json").read_text())[0]
    recs = list(records.read_all([out / str(row["scenario"]) / "requests.csv"]))
    begin, end = min(r.start for r in recs), max(r.end for r in recs)
    during = [(when, cpu, busy) for when, cpu, busy in samples if begin <= when <= end]
    if len(during) < 2:
        return row, recs, 0.0, 0.0
    (t0, cpu0, busy0), (t1, cpu1, busy1) = during[0], during[-1]
    return row, recs, (cpu1 - cpu0) / (t1 - t0), (busy1 - busy0) / (t1 - t0) / (len(cpus) or os.cpu_count() or 1)


def parts(recs: list[records.Record]) -> tuple[float, float, float]:
    """RPS of the first EDGE_S, of the steady middle, and of the last EDGE_S of the window (by answer time)."""
    begin, end = min(r.start for r in recs), max(r.end for r in recs)
    first = sum(1 for r in recs if r.end < begin + EDGE_S) / EDGE_S
    last = sum(1 for r in recs if r.end >= end - EDGE_S) / EDGE_S
    middle = sum(1 for r in recs if begin + EDGE_S <= r.end < end - EDGE_S) / (end - begin - 2 * EDGE_S)
    return first, middle, last


def generator_ms(row: dict[str, object], recs: list[records.Record]) -> float:
    """locust's CPU per request over the run's window, from the row's generator CPU share."""
    percent, cpus = row.get("generator_cpu_percent"), row.get("generator_capacity_cpus")
    if not isinstance(percent, int | float) or not isinstance(cpus, int | float) or not recs:
        return 0.0
    begin, end = min(r.start for r in recs), max(r.end for r in recs)
    return percent / 100 * cpus * (end - begin) * 1000 / len(recs)


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
    ratios: list[float] = []
    steady: list[float] = []
    with tempfile.TemporaryDirectory(prefix="djload-run-vs-wrk-") as tmp:
        for n in range(1, args.rounds + 1):
            load = Path("/proc/loadavg").read_text().split()[0]

            def wrk() -> Wrk:
                with servers.serve(servers.ServerSpec(scenario, Path(tmp) / f"serve-{n}")) as server:  # noqa: B023
                    return wrk_rps(server, scenario.endpoint.url_path, scenario.swarm.users, duration,
                                   scenario.cpus.generator)  # fmt: skip

            (Path(tmp) / f"serve-{n}").mkdir()
            wrk_first = wrk() if args.wrk_first else None
            row, recs, own_cpu_s, generator_cpus_busy = djload_run(
                args.scenario, Path(tmp) / f"run-{n}", cpus.generator
            )
            reference = wrk_first if wrk_first is not None else wrk()
            rps = float(row["effective_rps"])  # type: ignore[arg-type]
            first, middle, last = parts(recs)
            ratios.append(rps / reference.rps)
            steady.append(middle / reference.rps)
            print(f"round {n} (load {load}): djload {rps:.0f} RPS, wrk {reference.rps:.0f}: ratio {ratios[-1]:.3f}, "
                  f"steady part {steady[-1]:.3f} (djload first {EDGE_S:g} s {first:.0f}, steady {middle:.0f}, "
                  f"last {EDGE_S:g} s {last:.0f} RPS)")  # fmt: skip
            print(f"  CPU per request: locust {generator_ms(row, recs):.3f} ms, wrk {reference.cpu_ms:.3f} ms; "
                  f"server {row.get('server_cpu_ms_per_request') or 0:.3f} ms under djload (after "
                  f"{row.get('warmup_requests')} warm-up requests), {reference.server_cpu_ms:.3f} ms under wrk (cold); "
                  f"locust busy {row.get('generator_busy_percent')}% (CPU + run-queue wait), its CPUs "
                  f"{generator_cpus_busy:.0%} busy with everything on them; "
                  f"server CPU {row.get('server_cpu_percent')}%; "
                  f"djload's own {own_cpu_s:.1%} of a CPU")  # fmt: skip
            time.sleep(0.5)
    print(f"ratio per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"steady part: {', '.join(f'{r:.2f}' for r in steady)} (median {statistics.median(steady):.2f})")  # fmt: skip
    print(f"djload/wrk RPS ratio: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
