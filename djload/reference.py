"""A reference load generator against the same server, right after the swarm: how much of what the server
could do djload's locust measured.

wrk (C, one event loop per thread) needs a fraction of locust's CPU per request. Run with the swarm's
connections, for its duration and on its CPUs, it shows what the server gives a generator that is not the
limit: where locust's RPS falls well short of it, locust was the bottleneck, whatever its CPU reads.
oha (Rust) is taken where wrk is not installed and oha is.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from djload import processes, servers
from djload.scenario import REFERENCE_TOOLS as TOOLS  # swarm.reference names one; the other stands in

DEBIAN_PACKAGE = "wrk"
# Below this share of the reference's RPS, locust was the limit (as SATURATED is for its CPU).
BOUND_SHARE = 0.9
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")


class MissingTool(Exception):
    """Neither the reference tool nor its stand-in is installed."""


class ReferenceFailed(Exception):
    """The reference tool ran but gave no number."""


@dataclass(frozen=True)
class Reference:
    tool: str
    rps: float
    argv: list[str]


def find(tool: str) -> tuple[str, str]:
    """(name, path) of the tool to run for swarm.reference = tool: tool itself, else the other one installed."""
    for name in (tool, *(other for other in TOOLS if other != tool)):
        path = shutil.which(name)
        if path:
            return name, path
    raise MissingTool(
        f"reference: {tool} is not installed (nor {', '.join(t for t in TOOLS if t != tool)}); "
        f"install the Debian package `{DEBIAN_PACKAGE}` (apt-get install {DEBIAN_PACKAGE})"
    )


def command(tool: str, path: str, url: str, connections: int, duration_s: float, cpus: tuple[int, ...],
            timeout_s: float) -> list[str]:  # fmt: skip
    """The tool's command line: connections open for duration_s, one thread per CPU it may use (wrk).

    A URL's user and password (a --target with credentials) go in a basic Authorization header, as locust
    sends them: neither tool reads them from the URL.
    """
    threads = max(1, min(connections, len(cpus) or len(os.sched_getaffinity(0))))
    duration = f"{max(duration_s, 1.0):.0f}s"  # both tools take whole seconds
    request = servers.request(url)
    authorization = request.get_header("Authorization")
    header = ["-H", f"Authorization: {authorization}"] if authorization else []
    if tool == "wrk":
        options = [f"-t{threads}", f"-c{connections}", f"-d{duration}", f"--timeout={timeout_s:g}s"]
    else:
        options = ["--no-tui", "-c", str(connections), "-z", duration, "-t", f"{timeout_s:g}s"]
    return processes.pinned([path, *options, *header, request.full_url], cpus)


def shown(argv: list[str]) -> list[str]:
    """argv as djload may print or store it: an Authorization header's credentials become ***."""
    return ["Authorization: ***" if arg.startswith("Authorization:") else arg for arg in argv]


def parse_rps(output: str) -> float:
    """Requests per second from the summary wrk and oha print ("Requests/sec: 2792.31")."""
    match = _RPS.search(output)
    if not match:
        raise ReferenceFailed(f"no Requests/sec in its output:\n{output.strip()[-2000:]}")
    return float(match.group(1))


def measure(tool: str, url: str, connections: int, duration_s: float, cpus: tuple[int, ...],
            timeout_s: float) -> Reference:  # fmt: skip
    """Run the reference against url and return its RPS; MissingTool when it is not installed."""
    name, path = find(tool)
    argv = command(name, path, url, connections, duration_s, cpus, timeout_s)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=max(duration_s, 1.0) + 60)
    except subprocess.TimeoutExpired as exc:
        raise ReferenceFailed(f"{name} did not end within {exc.timeout:g} s") from None
    if done.returncode != 0:
        raise ReferenceFailed(f"{name} exited with code {done.returncode}: {done.stderr.strip()[-2000:]}")
    return Reference(name, parse_rps(done.stdout), shown(argv))
