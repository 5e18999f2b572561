"""How hard the load generator and the server worked while a run lasted.

A thread samples, every INTERVAL_S, each watched process tree (the locust processes; gunicorn's
master and workers, found from /proc): the CPU time of each whole process, and the time its threads
spent runnable but waiting for a CPU. A generator that was running or waiting to run nearly all the time
had no headroom: what the run measured may be the generator's own limit, not the server's. Run-queue
waiting counts because on a shared machine a generator starved of its CPU is as much the bottleneck as
one that burns it.

CPU is counted per process, not per thread: Django runs a sync view under ASGI (and an async view under
WSGI) in a thread that exits afterwards, and a sum over the threads alive at each sample would lose
what those threads used. A process's CPU clock (and /proc/<pid>/stat) keeps the time of its exited
threads; the time of children that a watched process reaped arrives in its cutime/cstime.

Usage is read over the run's window (first request sent → last answer received) by interpolating
between samples, so locust's start-up and shutdown do not count.
"""

import bisect
import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from djload import memory

INTERVAL_S = 0.1
# How often the trees' members are looked up again. Finding a process's children means reading the stat
# file of every process on the machine (about 2 ms here); done at every sample for two trees it cost djload's
# own process 5% of a CPU during a run, taken from the server's or locust's CPU. Members are known processes
# in between: one that exits is seen gone at once, one that starts is found within SCAN_S.
SCAN_S = 0.5
SATURATED = 0.9  # busy more than 90% of its CPUs: the generator is the bottleneck
_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessTimes:
    """One process's counters, in seconds."""

    cpu_s: float  # user + system time of all its threads, exited ones included
    reaped_s: float  # user + system time of the children it has waited for (cutime + cstime)
    ppid: int


def _stat(pid: int) -> tuple[float, float, int] | None:
    """(utime + stime, cutime + cstime, ppid) from /proc/<pid>/stat, in seconds; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields after it start past the last ')'.
    fields = text.rpartition(")")[2].split()
    try:
        ppid, utime, stime, cutime, cstime = (int(fields[i]) for i in (1, 11, 12, 13, 14))
    except (IndexError, ValueError):
        return None
    return (utime + stime) * _TICK_S, (cutime + cstime) * _TICK_S, ppid


def process_times(pid: int) -> ProcessTimes | None:
    """A process's CPU time, exited threads included; None once it is gone.

    The process's CPU clock counts in nanoseconds where /proc/<pid>/stat counts in clock ticks (10 ms),
    too coarse for a run that lasts a fraction of a second: the clock is read, the file only for what the
    clock does not give (the reaped children, the parent) or where the clock cannot be read.
    """
    stat = _stat(pid)
    if stat is None:
        return None
    cpu_s, reaped_s, ppid = stat
    # Linux's clock id for a process's CPU clock: CPUCLOCK_SCHED (2) of the pid, as clock_getcpuclockid makes it.
    # A zombie has none left: its /proc/<pid>/stat stands.
    with contextlib.suppress(OSError):
        cpu_s = time.clock_gettime((~pid << 3) | 2)
    return ProcessTimes(cpu_s, reaped_s, ppid)


def children_map() -> dict[int, list[int]]:
    """Each process's children, from one pass over /proc."""
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(Path(entry.path, "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _run_queue_waits_s(pid: int) -> dict[int, float] | None:
    """Seconds each live thread of the process waited runnable for a CPU (/proc/<pid>/task/*/schedstat)."""
    waits: dict[int, float] = {}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                waits[int(task.name)] = int((task / "schedstat").read_text().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return None
    return waits


@dataclass
class _Tree:
    """One process tree. Each process's last known counters are kept, so a process that exits keeps its share;
    what it used after the last sample arrives in its parent's reaped time when a watched parent waits for it.
    """

    root: int
    members: list[int] = field(default_factory=list)  # the root and its descendants, as last looked up
    cpu_s: dict[int, float] = field(default_factory=dict)  # pid → its CPU time at the last sample
    reaped_s: dict[int, float] = field(default_factory=dict)  # pid → its children's reaped time, last sample
    reaped_first_s: dict[int, float] = field(default_factory=dict)  # pid → the same when first seen
    parent: dict[int, int] = field(default_factory=dict)
    gone: set[int] = field(default_factory=set)
    waits_s: dict[tuple[int, int], float] = field(default_factory=dict)  # (pid, tid) → run-queue wait
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (time, cpu s, cpu + wait s)
    memory_samples: memory.Samples | None = None  # the server's memory, read with its CPU (djload.memory)

    def sample(self, kids: dict[int, list[int]] | None = None, *, rescan: bool = True) -> None:
        """Read the members' counters; with rescan, look the members up first (in kids, or in a new children_map)."""
        now = time.time()
        if rescan:
            kids = children_map() if kids is None else kids
            self.members = [self.root]
            for pid in self.members:  # grows while it is walked: breadth first down the tree
                self.members.extend(kids.get(pid, ()))
        seen = set()
        for pid in self.members:
            times = process_times(pid)
            if times is None:
                continue
            seen.add(pid)
            self.cpu_s[pid], self.reaped_s[pid], self.parent[pid] = times.cpu_s, times.reaped_s, times.ppid
            self.reaped_first_s.setdefault(pid, times.reaped_s)
            for tid, wait in (_run_queue_waits_s(pid) or {}).items():
                self.waits_s[pid, tid] = max(wait, self.waits_s.get((pid, tid), 0.0))
        self.gone |= self.cpu_s.keys() - seen
        cpu = self.total_cpu_s()
        if self.samples:  # a child read just before its parent reaped it may dip the sum for one sample
            cpu = max(cpu, self.samples[-1][1])
        self.samples.append((now, cpu, cpu + sum(self.waits_s.values())))
        if self.memory_samples is not None and rescan:  # at SCAN_S: reading Pss walks the page tables (~1 ms)
            self.memory_samples.sample(self.root, self.members, now)

    def total_cpu_s(self) -> float:
        """The tree's CPU time: each process's own, plus what its parent reaped beyond the children's last samples.

        A child that exited after its last sample reaches its parent's cutime/cstime whole (its own time plus
        what it reaped): the parent's growth in reaped time beyond those last samples is the part no sample
        saw. Where a parent never waits (SIGCHLD ignored) nothing grows and the child's last sample stands.
        """
        unseen = {pid: reaped - self.reaped_first_s[pid] for pid, reaped in self.reaped_s.items()}
        for pid in self.gone:
            parent = self.parent[pid]
            if parent in unseen:
                unseen[parent] -= self.cpu_s[pid] + self.reaped_s[pid]
        # Ticks round each child's reaped time: a small negative remainder means nothing unseen.
        return sum(self.cpu_s.values()) + sum(left for left in unseen.values() if left > _TICK_S / 2)

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
        self._next_scan = 0.0
        self._thread = threading.Thread(target=self._loop, name="djload-headroom", daemon=True)

    def watch(self, role: str, pid: int) -> None:
        tree = _Tree(pid, memory_samples=memory.Samples() if role == "server" else None)
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
                kids = None
                if time.monotonic() >= self._next_scan:
                    kids, self._next_scan = children_map(), time.monotonic() + SCAN_S
                for tree in self.trees.values():
                    tree.sample(kids, rescan=kids is not None)

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
            kids = children_map()
            for tree in self.trees.values():
                tree.sample(kids)


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
        **dict.fromkeys(memory.KEYS),
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
        result.update(memory.usage(server.memory_samples, start, end))
    return result


def advice(entry: dict[str, Any]) -> str:
    """The warning printed for a generator-bound result: what was seen and what to change.

    A --repeat row holds the medians and its runs; the CPUs it had are its runs'. Where a reference tool ran
    (swarm.reference), the bound was measured against it, and the warning says so.
    """
    runs = entry.get("runs") or [entry]
    bound = sum(1 for run in runs if run.get("generator_bound"))
    where = f" (in {bound} of {len(runs)} runs)" if len(runs) > 1 else ""
    rps, reference_rps = entry.get("effective_rps"), entry.get("reference_rps")
    if rps is not None and reference_rps:
        seen = (
            f"djload got {rps / reference_rps:.0%} of the RPS {entry.get('reference_tool')} got from the same server "
            f"right after ({rps:.0f} against {reference_rps:.0f})"
        )
    else:
        capacity = entry.get("generator_capacity_cpus") or next(
            (run["generator_capacity_cpus"] for run in runs if run.get("generator_capacity_cpus")), "its"
        )
        seen = f"the load generator was busy {entry.get('generator_busy_percent')}% of {capacity} CPU(s)"
    return (
        f"{entry['scenario']}: generator_bound{where}: {seen}; these numbers may be locust's limit, not the "
        "server's. Use swarm.user_class: fast, more locust processes (swarm.processes / --workers) or more CPUs for "
        "the generator (cpus.generator / --generator-cpus)."
    )
