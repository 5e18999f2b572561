"""How hard the load generator and the server worked while a run lasted.

A thread samples, every INTERVAL_S, each watched process tree (the locust processes; gunicorn's
master and workers, found with psutil): from /proc/<pid>/task/*/schedstat, the time its threads
ran on a CPU and the time they spent runnable but waiting for one. A generator that was running or waiting to run
nearly all the time had no headroom: what the run measured may be the generator's own limit, not the
server's. Run-queue waiting counts because on a shared machine a generator starved of its CPU is as
much the bottleneck as one that burns it.

Usage is read over the run's window (first request sent → last answer received) by interpolating
between samples, so locust's start-up and shutdown do not count.
"""

import bisect
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

INTERVAL_S = 0.1
SATURATED = 0.9  # busy more than 90% of its CPUs: the generator is the bottleneck


def _schedstat_s(pid: int) -> tuple[float, float] | None:
    """Seconds the process's threads ran, and waited runnable for a CPU; None where Linux does not say.

    /proc/<pid>/task/*/schedstat counts in nanoseconds, where psutil's CPU times count in clock ticks
    (10 ms): too coarse for a run that lasts a fraction of a second.
    """
    run_ns = wait_ns = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                fields = (task / "schedstat").read_text().split()
                run_ns, wait_ns = run_ns + int(fields[0]), wait_ns + int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return None
    return run_ns / 1e9, wait_ns / 1e9


@dataclass
class _Tree:
    """One process tree; each process's last known counters are kept, so a process that exits keeps its share."""

    root: int
    cpu_s: dict[int, float] = field(default_factory=dict)
    wait_s: dict[int, float] = field(default_factory=dict)
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (time, cpu s, cpu + wait s)

    def sample(self) -> None:
        now = time.time()
        try:
            root = psutil.Process(self.root)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for process in tree:
            sched = _schedstat_s(process.pid)
            if sched is None:
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                sched = (times.user + times.system, 0.0)
            self.cpu_s[process.pid], self.wait_s[process.pid] = sched
        cpu = sum(self.cpu_s.values())
        self.samples.append((now, cpu, cpu + sum(self.wait_s.values())))

    @property
    def processes(self) -> int:
        return len(self.cpu_s)

    def at(self, when: float) -> tuple[float, float]:
        """(cpu s, busy s) at a moment, linear between the samples around it."""
        i = bisect.bisect_left(self.samples, when, key=lambda sample: sample[0])
        if i == 0:
            return self.samples[0][1:]
        if i == len(self.samples):
            return self.samples[-1][1:]
        (t0, c0, b0), (t1, c1, b1) = self.samples[i - 1], self.samples[i]
        f = (when - t0) / (t1 - t0) if t1 > t0 else 0.0
        return c0 + (c1 - c0) * f, b0 + (b1 - b0) * f

    def used(self, start: float, end: float) -> tuple[float, float]:
        (c0, b0), (c1, b1) = self.at(start), self.at(end)
        return c1 - c0, b1 - b0


class Monitor:
    """Samples the watched process trees in a background thread until stopped."""

    def __init__(self) -> None:
        self.trees: dict[str, _Tree] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="djload-headroom", daemon=True)

    def watch(self, role: str, pid: int) -> None:
        tree = _Tree(pid)
        tree.sample()
        with self._lock:
            self.trees[role] = tree

    def recent_cpus(self, window_s: float = 0.3) -> float | None:
        """CPUs the watched trees used together over the last window_s; None until there are samples enough."""
        total = 0.0
        with self._lock:
            for tree in self.trees.values():
                if len(tree.samples) < 2 or tree.samples[-1][0] - tree.samples[0][0] < window_s:
                    return None
                end = tree.samples[-1][0]
                cpu, _ = tree.used(end - window_s, end)
                total += cpu / window_s
        return total

    def _loop(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            with self._lock:
                for tree in self.trees.values():
                    tree.sample()

    def __enter__(self) -> "Monitor":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop sampling, with one last sample of each tree; stopping again does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            for tree in self.trees.values():
                tree.sample()


def usage(
    monitor: Monitor, start: float, end: float, completed: int, generator_cpus: int | None = None
) -> dict[str, float | int | bool | None]:
    """The summary's headroom keys for the window start → end (epoch seconds)."""
    result: dict[str, float | int | bool | None] = {
        "generator_cpu_percent": None,
        "generator_busy_percent": None,
        "generator_capacity_cpus": None,
        "generator_bound": False,
        "server_cpu_percent": None,
        "server_cpu_ms_per_request": None,
    }
    wall = end - start
    if wall <= 0:
        return result
    generator = monitor.trees.get("generator")
    if generator and generator.samples:
        cpu, busy = generator.used(start, end)
        cpus = generator_cpus or len(os.sched_getaffinity(0))
        # locust --processes N forks N workers beside the master, which sends no requests itself.
        load_processes = generator.processes - 1 if generator.processes > 1 else 1
        capacity = min(cpus, load_processes)
        result.update(
            generator_cpu_percent=round(cpu / wall / capacity * 100, 1),
            generator_busy_percent=round(busy / wall / capacity * 100, 1),
            generator_capacity_cpus=capacity,
            generator_bound=busy / wall / capacity > SATURATED,
        )
    server = monitor.trees.get("server")
    if server and server.samples:
        cpu, _ = server.used(start, end)
        result["server_cpu_percent"] = round(cpu / wall * 100, 1)
        result["server_cpu_ms_per_request"] = cpu * 1000 / completed if completed else None
    return result


def advice(entry: dict[str, object]) -> str:
    """The warning printed for a generator-bound result: what was seen and what to change."""
    return (
        f"{entry['scenario']}: generator_bound: the load generator was busy {entry['generator_busy_percent']}% of "
        f"its {entry['generator_capacity_cpus']} CPU(s); these numbers may be locust's limit, not the server's. "
        "Use swarm.user_class: fast, more locust processes (swarm.processes / --workers) or more CPUs for "
        "the generator (cpus.generator / --generator-cpus)."
    )
