"""The CPU a process tree used, counted whole: threads that exited, children that exited, none twice."""

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from djload import headroom

# A process that waits for a line on stdin before each step, so the test can sample around the work.
# burn(s) keeps one thread on the CPU for s seconds of its own CPU time: the amount is CPU, not wall time,
# so it holds on a loaded machine.
CHILD = textwrap.dedent(
    """
    import subprocess, sys, threading, time

    def burn(seconds):
        start = time.thread_time()
        while time.thread_time() - start < seconds:
            pass

    def step(name):
        sys.stdin.readline()
        if name == "threads":
            threads = [threading.Thread(target=burn, args=(0.05,)) for _ in range(5)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        elif name == "child":  # a child that starts, burns and is waited for between two samples
            subprocess.run([sys.executable, "-c", CHILD_BURN], check=True)
        elif name == "seen-child":  # a child sampled alive, that burns and is waited for afterwards
            child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline();" + CHILD_BURN],
                                     stdin=subprocess.PIPE)
            print("started", flush=True)
            sys.stdin.readline()
            child.communicate(b"go\\n")
        print("done", flush=True)

    CHILD_BURN = "import time\\nstart = time.process_time()\\nwhile time.process_time() - start < 0.2: pass"
    step(sys.argv[1])
    sys.stdin.readline()
    """
)


@pytest.fixture
def child(request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, request.param], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin and process.stdout
    yield process
    process.stdin.close()
    process.wait(timeout=30)


def _tell(process: subprocess.Popen[str], expect: str) -> None:
    assert process.stdin and process.stdout
    process.stdin.write("go\n")
    process.stdin.flush()
    assert process.stdout.readline().strip() == expect


def _used(tree: headroom._Tree) -> float:
    return tree.samples[-1][1] - tree.samples[0][1]


@pytest.mark.parametrize("child", ["threads"], indirect=True)
def test_threads_that_exited_between_samples_are_counted(child: subprocess.Popen[str]) -> None:
    # Five threads burn 50 ms each and exit, all between two samples: 0.25 s of CPU, plus the interpreter's
    # own few ms. A sum over the threads alive at each sample would read about nothing.
    tree = headroom._Tree(child.pid)
    tree.sample()
    _tell(child, "done")
    tree.sample()
    assert 0.24 <= _used(tree) <= 0.40


@pytest.mark.parametrize("child", ["child"], indirect=True)
def test_a_child_never_sampled_counts_through_its_parent(child: subprocess.Popen[str]) -> None:
    # The child lives and dies between two samples: its 0.2 s reach the parent's reaped time (clock ticks).
    tree = headroom._Tree(child.pid)
    tree.sample()
    _tell(child, "done")
    tree.sample()
    assert 0.18 <= _used(tree) <= 0.40


@pytest.mark.parametrize("child", ["seen-child"], indirect=True)
def test_a_child_sampled_then_reaped_counts_once(child: subprocess.Popen[str]) -> None:
    # Sampled alive (an interpreter's start-up spent), then burns 0.2 s after that sample and is reaped:
    # its tail arrives through the parent's reaped time, and what the sample saw is not counted again.
    tree = headroom._Tree(child.pid)
    _tell(child, "started")
    tree.sample()
    assert len(tree.cpu_s) == 2
    _tell(child, "done")
    tree.sample()
    assert tree.gone and 0.18 <= _used(tree) <= 0.30


@pytest.mark.parametrize("child", ["threads"], indirect=True)
def test_the_monitor_reads_a_window_of_exited_threads(child: subprocess.Popen[str]) -> None:
    with headroom.Monitor() as monitor:
        monitor.watch("server", child.pid)
        start = monitor.trees["server"].samples[0][0]
        _tell(child, "done")
    end = monitor.trees["server"].samples[-1][0]
    use = headroom.usage(monitor, start, end, completed=5)
    assert use["server_cpu_ms_per_request"] is not None
    assert 48 <= float(use["server_cpu_ms_per_request"]) <= 80


def test_advice_for_a_repeated_row_names_its_runs_cpus() -> None:
    # A --repeat row keeps the medians; the generator's CPUs are in its runs.
    runs = [{"generator_capacity_cpus": 1, "generator_bound": bound} for bound in (True, True, False)]
    row = {"scenario": "s", "generator_busy_percent": 95.0, "generator_bound": True, "runs": runs}
    text = headroom.advice(row)
    assert "generator_bound (in 2 of 3 runs)" in text and "busy 95.0% of 1 CPU(s)" in text


@pytest.mark.parametrize("child", ["seen-child"], indirect=True)
def test_the_monitor_finds_a_child_started_after_the_watch(child: subprocess.Popen[str]) -> None:
    # Members are looked up every SCAN_S, not at every sample: a new child is found within that, and its
    # CPU is the tree's from then on.
    with headroom.Monitor() as monitor:
        monitor.watch("server", child.pid)
        tree = monitor.trees["server"]
        assert tree.members == [child.pid]
        _tell(child, "started")
        time.sleep(headroom.SCAN_S + 3 * headroom.INTERVAL_S)
        assert len(tree.members) == 2
        _tell(child, "done")
    assert 0.18 <= _used(tree) <= 0.60  # the burn, and the child interpreter's own start-up


def test_advice_after_a_reference_says_what_it_measured() -> None:
    row = {"scenario": "s", "effective_rps": 800.0, "reference_rps": 1000.0, "reference_tool": "wrk",
           "generator_bound": True, "generator_busy_percent": 60.0}  # fmt: skip
    assert "djload got 80% of the RPS wrk got from the same server right after (800 against 1000)" in (
        headroom.advice(row)
    )
