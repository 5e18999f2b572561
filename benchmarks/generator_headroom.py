"""djload's RPS against wrk's, side by side, on one served site with the same CPU placement.

    .venv/bin/python benchmarks/generator_headroom.py [SCENARIO] [--rounds N]

Boots the scenario's server once (default: scenarios/throughput/wsgi-sync-computation.yaml, one
gunicorn sync worker pinned to CPU 0), then alternates rounds of wrk and of djload's locust swarm,
each pinned to the scenario's generator CPUs, with as many connections as the swarm has users and
for as long as the swarm runs. A load generator that keeps up with the server gets the same RPS as
wrk, whose C event loop is the reference; the last line is the median over the rounds of djload's RPS
over wrk's in the same round.

Needs wrk (Debian/Ubuntu: apt-get install wrk). The machine should be otherwise idle: every other
process on the same CPUs lowers both numbers, and not by the same amount.
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from djload import ROOT, headroom, metrics, processes, servers, swarm
from djload.scenario import load_file

DEFAULT = ROOT / "scenarios" / "throughput" / "wsgi-sync-computation.yaml"


def wrk_rps(url: str, connections: int, duration_s: float, cpus: tuple[int, ...]) -> tuple[float, float, float]:
    """wrk's requests per second, and the window it ran in (epoch seconds)."""
    argv = processes.pinned(["wrk", "-t1", f"-c{connections}", f"-d{duration_s:g}s", url], cpus)
    start = time.time()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60, check=True).stdout
    end = time.time()
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if errors:
        print(f"  wrk reported errors: {errors.group(0)}", file=sys.stderr)
    return float(match.group(1)), start, end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of wrk then djload (default 5)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed; on Debian or Ubuntu: apt-get install wrk", file=sys.stderr)
        return 2
    scenario = load_file(args.scenario)
    duration = scenario.swarm.duration_s
    if duration is None or scenario.swarm.model != "closed":
        print(f"{args.scenario}: needs a closed-model scenario with swarm.duration", file=sys.stderr)
        return 2
    url_path = scenario.endpoint.url_path
    with (
        tempfile.TemporaryDirectory(prefix="djload-headroom-") as tmp,
        servers.serve(servers.ServerSpec(scenario, Path(tmp))) as server,
    ):
        servers.warm_up(server.base_url, url_path, max(scenario.swarm.warmup, 20), scenario.swarm.timeout_s)
        print(f"server: {' '.join(server.argv)}")
        print(f"generators on CPUs {list(scenario.cpus.generator) or 'all'}, {scenario.swarm.users} connections, "
              f"{duration:g} s per run, user class {scenario.swarm.user_class}")  # fmt: skip
        djload_rps: list[float] = []
        wrk: list[float] = []
        for n in range(1, args.rounds + 1):
            with headroom.Monitor() as monitor:
                monitor.watch("server", server.process.pid)
                rps, start, end = wrk_rps(
                    server.base_url + url_path, scenario.swarm.users, duration, scenario.cpus.generator
                )
            wrk.append(rps)
            wrk_use = headroom.usage(monitor, start + 0.2, end - 0.2, round(rps * (end - start - 0.4)))
            out = Path(tmp) / f"round-{n}"
            out.mkdir()
            with headroom.Monitor() as monitor:
                monitor.watch("server", server.process.pid)
                records = swarm.run(swarm.SwarmSpec(scenario, server.base_url, out), monitor=monitor)
            summary = metrics.summarize(records)
            start, end = metrics.span(records)
            use = headroom.usage(monitor, start, end, len(records), len(scenario.cpus.generator) or None)
            djload_rps.append(float(summary["effective_rps"] or 0))
            print(f"round {n}: wrk {wrk[-1]:.0f} RPS (server CPU {wrk_use['server_cpu_percent']}%), "
                  f"djload {djload_rps[-1]:.0f} RPS (server CPU {use['server_cpu_percent']}%, "
                  f"{summary['total_errors']} errors, generator CPU {use['generator_cpu_percent']}%, "
                  f"busy {use['generator_busy_percent']}%)")  # fmt: skip
    # Each round's two runs are back to back, so their ratio sees the same machine; the median of the
    # rounds' ratios resists a round that another process disturbed.
    ratios = [d / w for d, w in zip(djload_rps, wrk, strict=True)]
    print(f"median: wrk {statistics.median(wrk):.0f} RPS, djload {statistics.median(djload_rps):.0f} RPS; "
          f"ratio per round: {', '.join(f'{r:.2f}' for r in ratios)}")  # fmt: skip
    print(f"djload/wrk RPS ratio: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
