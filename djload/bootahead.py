"""Boot ahead: the next run started while the current swarm is idle, so that it need not wait for a boot."""

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from djload import headroom, modelkeys, processes, servers, swarm
from djload.scenario import Scenario
from djload.servers import RunningServer


def preload_report() -> None:
    """Import the report's modules (matplotlib: most of a second), needed only at the end of a run."""
    import djload.report  # noqa: F401 - imported for its side effect: the import itself


class BootAhead:
    """The next run, started while the current swarm is idle so that it need not wait for a boot: its
    server, then its locust (waiting for a go file); and the stopping of the last server, left to finish.
    With nothing else to do, it imports the report's matplotlib meanwhile.

    Idle means the server and locust together used less than IDLE_CPUS over the last samples: the
    requests are waiting (a sleeping view), not computing. While a run keeps the CPUs busy nothing is
    started beside it, so a boot never steals CPU from a measurement; the next run then boots after.
    """

    IDLE_CPUS = 0.2

    def __init__(
        self, swarm_ahead: bool = True, environment: Callable[[Scenario, Path], dict[str, str]] | None = None
    ) -> None:
        self.swarm_ahead = swarm_ahead  # False when locust's workers are started elsewhere
        # What a server needs in its environment to reach the stack (djload.stack.Stack.environment).
        self.environment = environment
        self.next: tuple[Scenario, Callable[[], Path]] | None = None
        self.out_dir: Path | None = None  # the next run's folder, once its server is started
        self.server: RunningServer | None = None
        self.swarm: swarm.Started | None = None
        self.stopping: list[subprocess.Popen[bytes]] = []
        self.preloading: threading.Thread | None = None
        # The first run's boot that failed here, and its folder: the run takes the failure, not a second
        # boot (a project's setup runs once per boot, also when it fails).
        self.failed: tuple[Path, servers.BootError] | None = None

    def stop_later(self, process: subprocess.Popen[bytes]) -> None:
        """Ask a finished run's server to stop and let the next run start meanwhile; tick() reaps it."""
        processes.interrupt(process)
        self.stopping.append(process)

    def start_first(self, scenario: Scenario, out_dir: Callable[[], Path]) -> None:
        """The plan's first run: its server and its locust started together, at once.

        Nothing is measured yet, so nothing waits for idle time: locust starts Python and imports itself
        (about 0.4 s) while the server boots, instead of after it answers. A boot that fails here is the
        run's failure when it takes its server, not a second boot.
        """
        self.out_dir = out_dir()
        try:
            self.server = self._start_server(scenario, self.out_dir)
        except servers.BootError as exc:
            self.failed = (self.out_dir, exc)
            return
        except OSError:
            return
        if self._swarm_ahead(scenario):
            self.swarm = swarm.start_ahead(swarm.SwarmSpec(scenario, self.server.base_url, self.out_dir))

    def _start_server(self, scenario: Scenario, out_dir: Path) -> RunningServer:
        env = self.environment(scenario, out_dir) if self.environment else {}
        return servers.start(servers.ServerSpec(scenario, out_dir, stack_env=env))

    def plan(self, following: tuple[Scenario, Callable[[], Path]] | None) -> None:
        """The run after the current one (its scenario, and the maker of its folder); None: nothing ahead."""
        self.next = following

    def tick(self, monitor: headroom.Monitor) -> None:
        """Called while the current swarm runs: reap stopped servers, then do one idle-time job at a time."""
        for process in [p for p in self.stopping if p.poll() is not None]:
            processes.stop(process)  # the group's last members, and the registry
            self.stopping.remove(process)
        if self.server and not self._ready(self.server):
            return  # still booting: nothing else beside it
        busy = monitor.recent_cpus()
        if busy is None or busy >= self.IDLE_CPUS:
            return
        # A project's setup (migrations, fixtures) may change the database the current run is using: its
        # server boots after the run, not beside it.
        if self.next and not self.server and not self.next[0].site.setup:
            scenario, out_dir = self.next
            self.out_dir = out_dir()
            self.server = self._start_server(scenario, self.out_dir)
        elif self.next and self.server and self.out_dir and not self.swarm and self._swarm_ahead(self.next[0]):
            self.swarm = swarm.start_ahead(swarm.SwarmSpec(self.next[0], self.server.base_url, self.out_dir))
        elif not self.preloading:
            self.preloading = threading.Thread(target=preload_report, name="djload-preload-report", daemon=True)
            self.preloading.start()

    def _swarm_ahead(self, scenario: Scenario) -> bool:
        # A mix that reads a model's keys gets them after its server's setup: its command line waits for them.
        # A capacity search starts one locust per step, with the rate of the steps before: none can wait ahead.
        ready = not modelkeys.labels(scenario) and not scenario.capacity
        return self.swarm_ahead and scenario.swarm.processes == 1 and self.server is not None and ready

    @staticmethod
    def _ready(server: RunningServer) -> bool:
        try:
            return servers.poll_ready(server)
        except servers.BootError:
            return True  # the next run's own wait for readiness says what went wrong

    def take(self, out_dir: Path) -> RunningServer | None:
        """The server started ahead for out_dir, if there is one; the caller stops it. BootError when its
        start failed here: the run reports that failure rather than boot (and run the setup) again."""
        failed, self.failed = self.failed, None
        if failed and failed[0] == out_dir:
            raise failed[1]
        server, self.server = self.server, None
        if server and self.out_dir == out_dir:
            return server
        if server:
            processes.stop(server.process)
        return None

    def take_swarm(self, out_dir: Path) -> swarm.Started | None:
        """The locust started ahead for out_dir, if there is one; swarm.run lets it go and stops it."""
        waiting, self.swarm = self.swarm, None
        ours = self.out_dir == out_dir
        self.out_dir = None
        if waiting and ours:
            return waiting
        if waiting:
            waiting.discard()
        return None
