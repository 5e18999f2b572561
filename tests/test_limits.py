"""The machine's limits on many connections at once: read, checked before a run, and the backlog djload sets."""

import dataclasses
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from djload import limits, modes, servers
from djload.scenario import load_file
from tests.conftest import ScenarioFactory

ROOMY = limits.Kernel(somaxconn=65535, max_syn_backlog=65535, syncookies=1, local_ports=60000, open_files_hard=1 << 20)


def test_a_swarm_within_every_limit_gets_no_line() -> None:
    assert limits.problems("s", 10_000, ROOMY) == []


def test_somaxconn_below_the_swarm_is_one_line_with_the_sysctl_to_run() -> None:
    (line,) = limits.problems("asgi-async-10000", 10_000, dataclasses.replace(ROOMY, somaxconn=4096))
    assert line.startswith("asgi-async-10000: 10000 connections at once exceed net.core.somaxconn = 4096")
    assert line.endswith("as root: sysctl -w net.core.somaxconn=10000") and "\n" not in line
    # A site served elsewhere (--target) listens on another machine's kernel.
    assert limits.problems("s", 10_000, dataclasses.replace(ROOMY, somaxconn=4096), local_server=False) == []


def test_the_syn_backlog_counts_only_with_syn_cookies_off() -> None:
    small = dataclasses.replace(ROOMY, max_syn_backlog=2048)
    assert limits.problems("s", 10_000, small) == []
    (line,) = limits.problems("s", 10_000, dataclasses.replace(small, syncookies=0))
    assert "net.ipv4.tcp_max_syn_backlog = 2048" in line and "sysctl -w net.ipv4.tcp_max_syn_backlog=10000" in line


def test_open_files_and_local_ports() -> None:
    (line,) = limits.problems("s", 10_000, dataclasses.replace(ROOMY, open_files_hard=4096))
    assert "above the hard limit of 4096" in line and "ulimit -Hn 10100" in line
    (line,) = limits.problems("s", 10_000, dataclasses.replace(ROOMY, local_ports=5000))
    assert "net.ipv4.ip_local_port_range gives 5000" in line


def test_read_takes_the_kernels_files(tmp_path: Path) -> None:
    for name, text in {
        "net/core/somaxconn": "4096\n",
        "net/ipv4/tcp_max_syn_backlog": "2048\n",
        "net/ipv4/tcp_syncookies": "1\n",
        "net/ipv4/ip_local_port_range": "32768\t60999\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    kernel = limits.read(tmp_path)
    assert (kernel.somaxconn, kernel.max_syn_backlog, kernel.syncookies, kernel.local_ports) == (4096, 2048, 1, 28232)
    assert kernel.open_files_hard == resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert limits.read(tmp_path / "missing").somaxconn is None  # unreadable: nothing claimed
    assert limits.read().somaxconn is not None  # this machine's own


@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_every_mode_listens_with_room_for_the_whole_swarm(mode: str, scenario_file: ScenarioFactory) -> None:
    for users, backlog in ((10, 2048), (10_000, 10_000)):
        scenario = load_file(scenario_file(server={"mode": mode}, swarm={"users": users}))
        argv = servers.command(scenario, 8000, Path("access.log"))
        assert argv[argv.index("--backlog") + 1] == str(backlog)


@pytest.mark.skipif(not shutil.which("ss"), reason="ss (iproute2) is not installed")
def test_the_kernel_gives_the_server_the_backlog_asked_for(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    # What the kernel really granted, read back from the listening socket: ss shows a listener's
    # backlog as its Send-Q. somaxconn cuts it short; that is what the warning before a run is for.
    users = 3000
    scenario = load_file(scenario_file(server={"mode": "asgi"}, swarm={"users": users}))
    with servers.serve(servers.ServerSpec(scenario, tmp_path)) as server:
        port = server.base_url.rsplit(":", 1)[1]
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    (line,) = out.splitlines()
    granted = int(line.split()[2])
    assert granted == min(users, limits.read().somaxconn or users)


def _private_net(somaxconn: int) -> list[str] | None:
    """A command prefix that runs in a network namespace of its own with this somaxconn; None where it cannot."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return None
    script = f'ip link set lo up && sysctl -qw net.core.somaxconn={somaxconn} && exec "$@"'
    prefix = ["unshare", "--net", "sh", "-c", script, "sh"]
    if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        return None
    return prefix


def test_run_says_a_somaxconn_below_the_swarm_before_it_starts(scenario_file: ScenarioFactory, tmp_path: Path) -> None:
    # The host's own setting is left alone: the run happens in a namespace whose somaxconn is 64.
    prefix = _private_net(64)
    if prefix is None:
        pytest.skip("a network namespace of its own needs root, unshare and ip (util-linux, iproute2)")
    scenario = scenario_file(swarm={"users": 100, "timeout": 30})
    argv = [*prefix, sys.executable, "-m", "djload.cli", "run", str(scenario), "--out", str(tmp_path / "out")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    first = done.stderr.splitlines()[0]
    assert first == (
        "WARNING: short: 100 connections at once exceed net.core.somaxconn = 64, the kernel's cap on a listen "
        "backlog: those past it are dropped and retried seconds later, or reset; as root: sysctl -w "
        "net.core.somaxconn=100"
    )
    assert "Traceback" not in done.stderr and (tmp_path / "out" / "summary.json").exists()
