"""Boot, readiness and stop of the site's server, and the one gate on where load may go.

Each mode's command line comes from its row in the table of modes (modes.py). The server runs in its
own process group so that stopping it stops gunicorn's master and every worker it forked.
"""

import base64
import ipaddress
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import psutil

from djload import limits, processes
from djload.masking import masked as masked  # the one masking, named here by its old callers
from djload.modes import MODES, Launch
from djload.scenario import Scenario
from djload.sites import BUNDLED, Site

HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0
SETUP_TIMEOUT_S = 600.0  # a project's setup commands (migrations, fixtures), each


class BootError(Exception):
    """The server exited or never answered its site's ready path; the message ends with its last log lines."""


class TargetError(Exception):
    """A URL or address djload must not send load to or serve on without --allow-remote."""


def _is_loopback_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def _is_loopback(host: str) -> bool:
    """An address literal is judged as it is. Of names, only localhost and *.localhost may be loopback, and
    only if they resolve to loopback addresses alone, as the client will resolve them: the hosts file or
    DNS may map foo.localhost anywhere. Any other name is not resolved (a look-up would be traffic)."""
    if host != "localhost" and not host.endswith(".localhost"):
        return _is_loopback_address(host)
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(_is_loopback_address(str(address[0])) for *_, address in found)


# The host and port of a URL, after any userinfo: a name, an IPv4 address or a bracketed IPv6 one, and
# digits. Percent-encoding, IPv6 zones, non-ASCII (IDNA) names or text after the brackets are read
# differently by urlsplit, urllib3 and geventhttpclient: such a URL is refused, not guessed at.
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9._-]*)(:[0-9]{1,5})?")


def request(url: str, method: str = "GET") -> urllib.request.Request:
    """A request of url; its user and password, if it has them, go in a basic Authorization header as
    Locust sends them (urllib would take user:pass@host for a host name, and ask DNS for it)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return urllib.request.Request(url, method=method)
    credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
    bare = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return urllib.request.Request(bare, headers={"Authorization": authorization}, method=method)


AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")


def _schemes(schemes: tuple[str, ...]) -> str:
    """("http", "https") → "an http:// or https://"."""
    first = schemes[0]
    return ("an " if first[0] in "aehiou" else "a ") + " or ".join(f"{scheme}://" for scheme in schemes)


def check_target(url: str, allow_remote: bool = False, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """The one gate before djload sends load to or binds a server on url; returns url unchanged.

    Only loopback addresses (127.0.0.0/8, ::1, localhost) pass unless allow_remote is given: a load
    tester must not hit someone else's site by accident. Nothing is sent and nothing is resolved.
    schemes: what url may be (a database server's URL is postgresql://).
    """
    shown = masked(url)  # every message below: a URL's password is never echoed
    if AMBIGUOUS.search(url):
        # urlsplit reads http://evil\@127.0.0.1 as 127.0.0.1, urllib3 (locust's client) as evil: refuse
        # whatever HTTP clients may read differently from this check.
        raise TargetError(f"{shown!r}: a backslash, space or control character in a URL; give a plain URL")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unbalanced [ or ] around an IPv6 address
        raise TargetError(f"{shown}: not {_schemes(schemes)} URL with a host") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise TargetError(f"{shown}: not {_schemes(schemes)} URL with a host")
    if not _HOST_PORT.fullmatch(parts.netloc.rpartition("@")[2]):
        raise TargetError(f"{shown}: the host must be a plain name, IPv4 address or [IPv6 address], and "
                          "the port digits; give a plain URL")  # fmt: skip
    if parts.scheme in ("http", "https") and ("?" in url or "#" in url):
        raise TargetError(f"{shown}: a site's URL has no query or fragment; the requests' paths follow it")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise TargetError(f"{shown}: the port must be a number from 0 to 65535") from None
    if not allow_remote and not _is_loopback(parts.hostname):
        what = (
            "a name that resolves only to loopback addresses"
            if parts.hostname.endswith("localhost")
            else "a loopback address"
        )
        raise TargetError(
            f"{shown}: {parts.hostname} is not {what}; djload sends load only to 127.0.0.1 "
            "unless --allow-remote is given"
        )
    return url


def check_bind(host: str, port: int, allow_remote: bool = False) -> None:
    """A server listening beyond loopback is reachable by others: the same gate as a remote target."""
    check_target(f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}", allow_remote)


def command(scenario: Scenario, port: int, access_log: Path, host: str = HOST) -> list[str]:
    """The server's command line, as its mode's row in the table builds it.

    Its listen backlog holds every user of the swarm connecting at once: past the backlog the kernel
    drops connections, and the clients retry them seconds later or see them reset.
    """
    server = scenario.server
    backlog = limits.listen_backlog(scenario.swarm.users)
    launch = Launch(scenario.site, server.workers, server.threads, host, port, access_log, backlog)
    return MODES[server.mode].command(launch)


def environment(scenario: Scenario, stack: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment; stack: where the site finds its database and upstream (djload.stack)."""
    # Every server option is on the command line; GUNICORN_CMD_ARGS or granian's GRANIAN_* variables
    # would silently add more.
    env = {
        key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS" and not key.startswith("GRANIAN_")
    }
    env.update(scenario.site.env)
    env.update(stack or {})
    env.update(
        DJANGO_SETTINGS_MODULE=scenario.site.settings,
        DJLOAD_SLEEP=repr(scenario.sleep),
        PYTHONUNBUFFERED="1",
        # One key for all workers of this server (each worker imports the settings itself).
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
    )
    return env


def free_port(host: str = HOST) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    """Fail at once on a busy port instead of after gunicorn's bind retries (about 5 s)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise BootError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    argv: list[str]
    base_url: str
    log: Path
    boot_s: float = 0.0
    started: float = field(default_factory=time.monotonic)  # when the process was started
    ready_after: float | None = None  # seconds from start to the first answer of the ready path, once seen
    ready_path: str = BUNDLED.ready
    # A user's project answers its ready path with anything below 500 and no X-Worker-Pid of ours.
    any_answer: bool = False

    @property
    def ready_url(self) -> str:
        return self.base_url + self.ready_path


def _ours(process: subprocess.Popen[bytes], pid: str) -> bool:
    """Whether the answering worker belongs to our server, not to another one on the same port."""
    try:
        tree = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    return pid in {str(process.pid)} | {str(child.pid) for child in tree}


# An http_proxy in the environment must not carry a probe of our own processes off this machine.
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer of its own (an HTTPError with its 3xx): djload never follows one unseen."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def local_url(host: str, port: int) -> str:
    """Where djload reaches something it made listen on host:port.

    A listener bound to every interface answers on loopback too, so it is polled and loaded there.
    """
    url_host = {"0.0.0.0": HOST, "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{url_host}:{port}"


def look(url: str | urllib.request.Request) -> tuple[int, Message] | None:
    """One GET with a 1 s timeout: the status and headers of whatever answered, an HTTP error's too; None
    while nothing answers (refused, reset, timed out): the one look every readiness poll takes."""
    try:
        with NO_PROXY.open(url, timeout=1) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, exc.headers
    except (urllib.error.URLError, OSError):
        return None


def answers_200(url: str | urllib.request.Request, name: str) -> bool:
    """True once url answers 200, False while nothing answers; BootError on an HTTP error: a site that is
    up but broken does not get better by waiting."""
    answer = look(url)
    if answer and answer[0] >= 400:
        raise BootError(f"{name} answered HTTP {answer[0]}")
    return answer is not None and answer[0] == 200


def poll(ready: Callable[[], bool], began: float, timeout_s: float, interval_s: float = 0.02) -> bool:
    """Ask ready() until it says True (True), or until timeout_s after began (monotonic) has passed (False)."""
    while not ready():
        if time.monotonic() - began > timeout_s:
            return False
        time.sleep(interval_s)
    return True


def poll_ready(server: RunningServer) -> bool:
    """One look at the ready path: True (and ready_after set) once it answers 200. Raises BootError as wait_ready."""
    if server.ready_after is not None:
        return True
    url = server.ready_url
    if server.process.poll() is not None:
        ended = processes.describe_exit(server.process.returncode)
        raise BootError(f"server {ended} before answering {url}\n{processes.tail(server.log)}")
    answer = look(url)
    if answer is None:
        return False
    status, headers = answer
    if status < 400:  # 200 from one of this server's own workers (not a stale server on a reused port)
        # A project's ready path may redirect (to its app, to a login page): not followed, the 3xx is its answer.
        if not server.any_answer and (status != 200 or not _ours(server.process, headers.get("X-Worker-Pid", ""))):
            return False
    elif not (server.any_answer and status < 500):  # a user's 404 or login redirect's 403: Django answers
        # The site is up but broken (an import error in its URLs or views, a refused host): no
        # amount of waiting will make it answer 200.
        time.sleep(0.2)  # let the server's log line about it reach the file
        raise BootError(f"server answered {url} with HTTP {status}\n{processes.tail(server.log)}")
    server.ready_after = time.monotonic() - server.started
    return True


def wait_ready(server: RunningServer, timeout_s: float = READY_TIMEOUT_S) -> float:
    """Poll the ready path until it answers 200; returns seconds from the server's start. BootError on exit or
    deadline."""
    if not poll(lambda: poll_ready(server), server.started, timeout_s):
        url = server.ready_url
        raise BootError(f"server did not answer {url} within {timeout_s:g} s\n{processes.tail(server.log)}")
    assert server.ready_after is not None
    return server.ready_after


def wait_for_site(
    url: str, allow_remote: bool = False, timeout_s: float = READY_TIMEOUT_S, site: Site = BUNDLED
) -> float:
    """A site that runs elsewhere (--target): wait until its ready path answers 200; returns seconds taken."""
    check_target(url, allow_remote)
    ready_url = url + site.ready
    started = time.monotonic()
    if not poll(lambda: answers_200(request(ready_url), masked(ready_url)), started, timeout_s, interval_s=0.1):
        raise BootError(f"{masked(ready_url)} did not answer within {timeout_s:g} s")
    return time.monotonic() - started


def run_setup(scenario: Scenario, out_dir: Path) -> None:
    """A project's setup commands, one after another in its folder with the server's environment, before
    it boots; `python` there is the interpreter djload runs in. BootError with the output when one fails."""
    site = scenario.site
    if not site.setup:
        return
    log = out_dir / "setup.log"
    with tempfile.TemporaryDirectory(prefix="djload-setup-") as bin_dir:
        # `python` is djload's own interpreter whatever the PATH says (a project's venv is djload's). A
        # script, not a symlink: a venv's interpreter finds its venv from the path it was started by.
        python = Path(bin_dir) / "python"
        python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
        python.chmod(0o755)
        env = environment(scenario)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", os.defpath)
        for command in site.setup:
            with log.open("ab") as file:
                file.write(f"$ {command}\n".encode())
            process = processes.start(["/bin/sh", "-c", command], log, cwd=site.folder, env=env, append=True)
            try:
                process.wait(timeout=SETUP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
            finally:
                timed_out = process.poll() is None
                processes.stop(process)
            if timed_out or process.returncode != 0:
                ended = (
                    f"did not end within {SETUP_TIMEOUT_S:g} s"
                    if timed_out
                    else processes.describe_exit(process.returncode)
                )
                raise BootError(f"setup command {shlex.quote(command)} {ended} (in {site.folder})\n"
                                f"{processes.tail(log)}")  # fmt: skip


@dataclass(frozen=True)
class ServerSpec:
    """One server to boot: the scenario (its site, mode, workers, CPUs), the folder its logs go to, and
    where it listens."""

    scenario: Scenario
    out_dir: Path
    port: int | None = None  # None: a free port
    host: str = HOST
    allow_remote: bool = False  # listening beyond loopback
    # The environment that points the site at its database and upstream, when it uses them (djload.stack).
    stack_env: dict[str, str] = field(default_factory=dict)


def start(spec: ServerSpec) -> RunningServer:
    """Start the site's server as the spec says, without waiting for it; serve() waits and stops it."""
    scenario, host = spec.scenario, spec.host
    check_bind(host, spec.port or 0, spec.allow_remote)
    if spec.port:
        check_port_free(host, spec.port)
    port = spec.port or free_port(host)
    run_setup(scenario, spec.out_dir)
    log = spec.out_dir / "server.log"
    argv = processes.pinned(command(scenario, port, spec.out_dir / "access.log", host), scenario.cpus.server)
    # In the site's folder: a project's relative paths (its SQLite file, templates) mean what they mean
    # under its own server.
    process = processes.start(argv, log, cwd=scenario.site.folder, env=environment(scenario, spec.stack_env))
    site = scenario.site
    return RunningServer(process, argv, local_url(host, port), log, ready_path=site.ready, any_answer=site.project)


@contextmanager
def serve(
    spec: ServerSpec,
    *,
    ready_timeout_s: float = READY_TIMEOUT_S,
    started: RunningServer | None = None,
    stop: Callable[[subprocess.Popen[bytes]], None] = processes.stop,
) -> Iterator[RunningServer]:
    """Boot the site as the spec says (or take the one started ahead for it), wait until it answers, and
    always stop it afterwards."""
    server = started or start(spec)
    try:
        server.boot_s = wait_ready(server, ready_timeout_s)
        yield server
    finally:
        stop(server.process)


def warm_up(base_url: str, path: str, count: int, timeout_s: float) -> int:
    """Send count requests one after another before the measured run (imports, caches, first connections)."""
    for _ in range(count):
        try:
            with NO_PROXY.open(request(base_url + path), timeout=timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as answer:
            answer.close()
            if not 300 <= answer.code < 400:  # a redirect, not followed, is an answer; an error page is not
                raise
    return count
