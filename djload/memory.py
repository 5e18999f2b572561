"""The server's memory while a run lasted: its process tree's proportional set size, peak over the run's window.

A forked worker shares its parent's pages (the interpreter, Django, the project, imported before the fork)
until it writes them: summing each process's RSS counts those pages once per process and says 3 workers
cost 3 times one. The kernel's Pss divides each shared page between the processes that map it, so the sum
over the tree counts every page once. It is read from /proc/<pid>/smaps_rollup (Linux 4.14+, one line per
counter, summed by the kernel over the mappings); where that file cannot be read (an older kernel, a
process of another user), the process's VmRSS from /proc/<pid>/status stands in.

The samples are taken by djload.headroom's sampling thread with the CPU samples, in djload's process, at
the interval it looks the tree's members up again (SCAN_S, 0.5 s) and once more when it stops: the kernel
walks a process's page tables to sum its Pss, about 0.5 ms for a 25 MiB process and 2 ms for a 40 MiB one
here, too much to do for every process of the tree ten times a second. Nothing is added per request.

The keys:
- server_memory_mib: the tree's summed memory at its highest sample of the run's window (the window's
  samples and the first after it);
- server_memory_mib_per_worker: at that same sample, the memory of the processes below the root (the
  workers that serve requests; the root is the master that only supervises them; a helper such as
  multiprocessing's resource tracker left out) divided by how many there were. A server of one process
  (uvicorn with one worker) serves in its root: the root alone then.
"""

import bisect
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
KEYS = ("server_memory_mib", "server_memory_mib_per_worker")
# Processes of a server's tree that serve no request: multiprocessing's resource tracker, which a server
# that spawns its workers (uvicorn --workers N, hypercorn) starts beside them. Counted in the tree's
# memory (the server costs it), not as a worker.
HELPERS = (b"multiprocessing.resource_tracker",)


def is_helper(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return any(helper in command for helper in HELPERS)


def _field_kib(text: str, name: str) -> int | None:
    """The value in kB of a "Name:   123 kB" line."""
    for line in text.splitlines():
        if line.startswith(name + ":"):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None


def process_bytes(pid: int) -> tuple[int, bool] | None:
    """(bytes, whether that is Pss) of one process; None once it is gone (or it holds no memory: a zombie)."""
    try:
        pss = _field_kib(Path(f"/proc/{pid}/smaps_rollup").read_text(), "Pss")
    except OSError:
        pss = None
    if pss is not None:
        return pss * 1024, True
    try:
        rss = _field_kib(Path(f"/proc/{pid}/status").read_text(), "VmRSS")
    except OSError:
        return None
    return (rss * 1024, False) if rss is not None else None


@dataclass(frozen=True)
class Sample:
    when: float  # epoch seconds
    total: int  # bytes, the whole tree
    workers: int  # bytes, the processes serving requests (below the root; the root where it has none)
    worker_count: int
    pss: bool  # every process read as Pss (False: at least one is RSS, shared pages counted twice)


@dataclass
class Samples:
    """One process tree's memory, sample after sample."""

    samples: list[Sample] = field(default_factory=list)

    def sample(self, root: int, members: list[int], when: float) -> None:
        total = workers = count = 0
        pss = True
        for pid in members:
            found = process_bytes(pid)
            if found is None:
                continue
            size, is_pss = found
            pss = pss and is_pss
            total += size
            # Read at every sample (20 µs), not once: a child seen between its fork and its exec has its parent's.
            if pid != root and not is_helper(pid):
                workers += size
                count += 1
        if total == 0:
            return  # the tree is gone
        if count == 0:  # one process that serves by itself
            workers, count = total, 1
        self.samples.append(Sample(when, total, workers, count, pss))

    def peak(self, start: float, end: float) -> Sample | None:
        """The highest sample of the window and of the first one after it: what the server held when the window
        ended, read at most one interval late (a server holds its memory past its last answer; the sample
        before the window saw the warm-up, not the run). The last sample for a tree that has none later."""
        times = [sample.when for sample in self.samples]
        first, after = bisect.bisect_left(times, start), bisect.bisect_right(times, end)
        bounded = self.samples[first : after + 1] or self.samples[-1:]
        return max(bounded, key=lambda sample: sample.total, default=None)


def usage(samples: Samples | None, start: float, end: float) -> dict[str, float | None]:
    """The summary's memory keys for the window start → end (epoch seconds)."""
    peak = samples.peak(start, end) if samples else None
    if peak is None:
        return dict.fromkeys(KEYS)
    return {
        "server_memory_mib": round(peak.total / MIB, 1),
        "server_memory_mib_per_worker": round(peak.workers / peak.worker_count / MIB, 1),
    }
