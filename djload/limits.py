"""The machine's limits that a swarm of many connections runs into, read before the run.

A swarm of N users opens N connections at once. Each must wait in the server's listen backlog until the
server accepts it, each holds an open file on both sides, and each needs a local port of its own towards
the one server address. djload sets what it can itself: the server's listen backlog (gunicorn's and
uvicorn's --backlog, from the swarm's size) and the open-files soft limit (raised to the hard limit at
start, inherited by the server and locust). What needs root or a sysctl it cannot change; when a scenario
goes past such a limit, djload says so in one line before the run instead of letting the run end as a pile
of connection resets.

Why the backlog: a swarm's connections all arrive within a second or two, faster than one busy worker
accepts them. Past the backlog the kernel drops the SYN; the client retries 1, 3, 7, 15 s later, the
server idles between the retries, and handshakes left half-done are reset. The kernel cuts every backlog
to net.core.somaxconn silently. net.ipv4.tcp_max_syn_backlog matters only with SYN cookies off: with them
on (the default) a full SYN queue answers with cookies, and on loopback a handshake completes at once.
"""

import resource
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scenario.py imports the modes' table, which imports this module
    from djload.scenario import Scenario

DEFAULT_BACKLOG = 2048  # gunicorn's and uvicorn's own default
FD_MARGIN = 100  # besides its sockets, each side holds log files, pipes, its libraries' descriptors
PROC_SYS = Path("/proc/sys")


@dataclass(frozen=True)
class Kernel:
    """The settings that bound how many connections can be opened at once; None where unreadable."""

    somaxconn: int | None
    max_syn_backlog: int | None
    syncookies: int | None
    local_ports: int | None  # how many ports net.ipv4.ip_local_port_range gives
    open_files_hard: int  # RLIMIT_NOFILE's hard limit: the most djload can raise its soft limit to


def _read_ints(path: Path) -> list[int] | None:
    try:
        return [int(word) for word in path.read_text().split()]
    except (OSError, ValueError):
        return None


def read(proc_sys: Path = PROC_SYS) -> Kernel:
    """This machine's settings (of djload's network namespace, where the servers run)."""

    def one(name: str) -> int | None:
        values = _read_ints(proc_sys / name)
        return values[0] if values else None

    ports = _read_ints(proc_sys / "net/ipv4/ip_local_port_range")
    return Kernel(
        somaxconn=one("net/core/somaxconn"),
        max_syn_backlog=one("net/ipv4/tcp_max_syn_backlog"),
        syncookies=one("net/ipv4/tcp_syncookies"),
        local_ports=ports[1] - ports[0] + 1 if ports and len(ports) == 2 else None,
        open_files_hard=resource.getrlimit(resource.RLIMIT_NOFILE)[1],
    )


def listen_backlog(connections: int) -> int:
    """The backlog a server listens with: room for every connection of the swarm arriving at once.

    The kernel cuts it to net.core.somaxconn silently; problems() says when that cuts it short.
    """
    return max(DEFAULT_BACKLOG, connections)


def open_files_needed(connections: int) -> int:
    """Open files one side needs: a socket per connection (one ASGI worker may hold them all) and the rest."""
    return connections + FD_MARGIN


def problems(name: str, connections: int, kernel: Kernel, *, local_server: bool = True) -> list[str]:
    """One line per limit the scenario's connections at once would exceed; none when all fit.

    local_server: the server runs on this machine (not a --target elsewhere), so its backlog is ours.
    """
    found: list[str] = []
    if local_server and kernel.somaxconn is not None and connections > kernel.somaxconn:
        found.append(
            f"{name}: {connections} connections at once exceed net.core.somaxconn = {kernel.somaxconn}, the "
            "kernel's cap on a listen backlog: those past it are dropped and retried seconds later, or reset; "
            f"as root: sysctl -w net.core.somaxconn={connections}"
        )
    if (
        local_server
        and kernel.syncookies == 0
        and kernel.max_syn_backlog is not None
        and connections > kernel.max_syn_backlog
    ):
        found.append(
            f"{name}: {connections} connections at once exceed net.ipv4.tcp_max_syn_backlog = "
            f"{kernel.max_syn_backlog} with SYN cookies off: handshakes past it are dropped; as root: "
            f"sysctl -w net.ipv4.tcp_max_syn_backlog={connections} (or net.ipv4.tcp_syncookies=1)"
        )
    needed = open_files_needed(connections)
    if kernel.open_files_hard < needed:
        found.append(
            f"{name}: {connections} connections need about {needed} open files on each side, above the hard "
            f"limit of {kernel.open_files_hard}: connections past it fail; as root: raise it (ulimit -Hn "
            f"{needed} in the shell that starts djload, LimitNOFILE={needed} for a service)"
        )
    if kernel.local_ports is not None and connections > kernel.local_ports:
        found.append(
            f"{name}: {connections} connections at once need as many local ports, but "
            f"net.ipv4.ip_local_port_range gives {kernel.local_ports}; as root: "
            "sysctl -w net.ipv4.ip_local_port_range='1024 65535'"
        )
    return found


def warnings(
    scenarios: Iterable["Scenario"], elsewhere: Container[str] = (), kernel: Kernel | None = None
) -> list[str]:
    """The lines to say before a run of these scenarios; elsewhere: server modes served by a --target."""
    kernel = kernel or read()
    lines: list[str] = []
    for scenario in scenarios:
        local = scenario.server.mode not in elsewhere
        lines += problems(scenario.name, scenario.swarm.users, kernel, local_server=local)
    return lines
