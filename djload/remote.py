"""Measurements taken where the processes run, for a run whose site and locust workers run elsewhere
(`djload run --target ... --external-workers ...`, as in `docker compose up`).

The site: `djload serve --control-port N` answers two requests of the run's master beside the site:

    POST /begin                              start sampling the server's CPU; note where its logs end
    POST /end?start=S&end=E&requests=N       stop; the server's CPU over the window S → E (epoch seconds),
                                             and the log lines written since /begin

Every request carries the run's token (djload.controlauth), or gets 401; a bad number (``nan``,
``inf``, an end before the start) gets 400. Every answer, refusals included, is a JSON object.

The window is the run's (first request sent → last answer received), read with the same headroom
sampling as a local run; containers on one host share its clock. The master writes the lines into the
scenario's folder as server.log and access.log, so that the thread and queue analysis reads them as it
does after a local run.

How many workers: `djload run --workers-from HOST` counts the addresses HOST resolves to (in compose, the
service name resolves to every container of the service), so that `--scale worker=N` needs no second
number.

The load: each locust worker measures its own process from the start barrier to its last answer and
sends that to the master with its records (djload.locust_plugin); the master's locust writes the reports
to generator.json beside the records. The generator columns then describe the processes that sent.
"""

import json
import math
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from djload import controlauth, headroom, memory
from djload.records import GENERATOR_REPORTS
from djload.servers import NO_PROXY, RunningServer, TargetError, check_bind, check_target, masked
from djload.servers import request as servers_request

LOGS = ("server.log", "access.log")
TIMEOUT_S = 30.0
RESOLVE_WAIT_S = 30.0  # a worker container that has just started may not be in the DNS yet
# The server keys a site's /end answers; the generator keys come from the workers' reports.
SERVER_KEYS = ("server_cpu_percent", "server_cpu_ms_per_request", *memory.KEYS)


class ControlError(Exception):
    """The site's control endpoint did not answer as expected."""


class _Measurement:
    """What one run's /begin started: the server's sampling and where its logs ended."""

    def __init__(self, server: RunningServer, folder: Path) -> None:
        self.folder = folder
        # The line of the request just before /begin (a readiness look, the last warm-up request) may still
        # be on its way to the file: it belongs before the window, not in it.
        self._settle()
        self.offsets = {name: _size(folder / name) for name in LOGS}
        self.monitor = headroom.Monitor()
        self.monitor.watch("server", server.process.pid)
        self.monitor.__enter__()

    def end(self, start: float, end: float, requests: int) -> dict[str, Any]:
        self.monitor.stop()
        self._settle()
        usage = headroom.usage(self.monitor, start, end, requests)
        logs = {}
        for name, offset in self.offsets.items():
            with (self.folder / name).open("rb") as log:
                log.seek(offset)
                logs[name] = log.read().decode(errors="replace")
        return {"usage": {key: usage[key] for key in SERVER_KEYS}, "logs": logs}

    def _settle(self, longest_s: float = 1.0) -> None:
        """A server writes a request's access-log line after its answer: wait until the logs stop growing."""
        deadline, sizes = time.monotonic() + longest_s, None
        while time.monotonic() < deadline:
            now = [_size(self.folder / name) for name in LOGS]
            if now == sizes:
                return
            sizes = now
            time.sleep(0.05)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _window(query: dict[str, str]) -> tuple[float, float, int]:
    """/end's start, end and requests; ValueError (a 400) for what no run measures: NaN, infinities, an end
    before the start, a negative count."""
    start, end, requests = float(query["start"]), float(query["end"]), int(query["requests"])
    if not (math.isfinite(start) and math.isfinite(end)) or end < start or requests < 0:
        raise ValueError(f"start={query['start']!r}, end={query['end']!r}, requests={query['requests']!r}: "
                         "expected finite epoch seconds, start <= end, and a count of at least 0")  # fmt: skip
    return start, end, requests


@contextmanager
def control(
    server: RunningServer, folder: Path, host: str, port: int, allow_remote: bool = False, token: str | None = None
) -> Iterator[str]:
    """Serve the control endpoint for server (its logs in folder) on host:port while the block runs; yields
    its URL with the token (controlauth.token() unless given) as the password."""
    check_bind(host, port, allow_remote)
    secret = token or controlauth.token()
    lock = threading.Lock()
    current: list[_Measurement] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if not controlauth.allowed(self.headers.get("Authorization"), secret):
                self._answer(401, {"error": f"the control endpoint needs the run's token ({controlauth.TOKEN_ENV})"})
                return
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            try:
                with lock:
                    if url.path == "/begin":
                        for measurement in current:
                            measurement.monitor.stop()
                        current[:] = [_Measurement(server, folder)]
                        self._answer(200, {})
                    elif url.path == "/end" and current:
                        window = _window(query)
                        self._answer(200, current.pop().end(*window))
                    elif url.path == "/end":
                        self._answer(409, {"error": "no measurement begun"})
                    else:
                        self._answer(404, {"error": f"unknown path {url.path}"})
            except (KeyError, ValueError) as exc:
                self._answer(400, {"error": f"bad query: {exc}"})
            except Exception as exc:  # noqa: BLE001 - the master gets a JSON answer whatever went wrong here
                self._answer(500, {"error": f"{type(exc).__name__}: {exc}"})

        def do_GET(self) -> None:
            self._not_post()

        def do_PUT(self) -> None:
            self._not_post()

        def do_DELETE(self) -> None:
            self._not_post()

        def do_HEAD(self) -> None:
            self._not_post()

        def _not_post(self) -> None:
            if not controlauth.allowed(self.headers.get("Authorization"), secret):
                self._answer(401, {"error": f"the control endpoint needs the run's token ({controlauth.TOKEN_ENV})"})
            else:
                self._answer(405, {"error": f"{self.command}: the control endpoint answers POST only"})

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """A malformed request (or an unsupported method) gets JSON too, not http.server's HTML page."""
            self.close_connection = True
            self.request_version = "HTTP/1.0"  # a line it could not read: still a status line and headers
            self._answer(code, {"error": message or self.responses.get(code, ("",))[0]})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", controlauth.REALM)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the master's two requests per run need no log of their own

    httpd = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, name="djload-control", daemon=True)
    thread.start()
    try:
        yield controlauth.with_token(f"http://{host}:{httpd.server_address[1]}", secret)
    finally:
        httpd.shutdown()
        httpd.server_close()
        for measurement in current:
            measurement.monitor.stop()


@dataclass(frozen=True)
class Control:
    """The master's side: the control endpoint of the site serving a target."""

    url: str
    allow_remote: bool = False

    def begin(self) -> None:
        self._post("/begin")

    def end(self, start: float, end: float, requests: int, out_dir: Path) -> dict[str, Any]:
        """The server's headroom keys for the window; its log lines of the run written into out_dir."""
        query = urllib.parse.urlencode({"start": repr(start), "end": repr(end), "requests": requests})
        answer = self._post(f"/end?{query}")
        for name in LOGS:
            (out_dir / name).write_text(answer["logs"].get(name, ""))
        return dict(answer["usage"])

    def _post(self, path: str) -> dict[str, Any]:
        check_target(self.url, self.allow_remote)
        request = servers_request(self.url + path, method="POST")
        for name, value in controlauth.client_headers(self.url).items():
            request.add_header(name, value)
        # `djload serve` opens its control endpoint just after the site answers: a refusal may only be early.
        deadline = time.monotonic() + TIMEOUT_S
        error: Exception
        while True:
            try:
                with NO_PROXY.open(request, timeout=TIMEOUT_S) as response:
                    return dict(json.load(response))
            except urllib.error.HTTPError as exc:
                error = exc
                if exc.code == 401:
                    error = ValueError(
                        f"HTTP 401: it wants the run's token: the URL `djload serve` printed (with its password), "
                        f"or the same {controlauth.TOKEN_ENV} on both sides"
                    )
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, ConnectionRefusedError) and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                error = exc
            except (OSError, ValueError) as exc:
                error = exc
            where = masked(self.url + path.split("?")[0])  # --control may carry a password: never shown
            raise ControlError(f"the site's control endpoint {where} failed: {masked(str(error))}")


def generator_usage(out_dir: Path, start: float, end: float, cpus: int) -> dict[str, Any]:
    """The generator's headroom keys from the workers' own reports in out_dir; empty when there are none.

    Each worker is one locust process (one CPU at most): capacity is the workers, at most the CPUs.
    """
    path = out_dir / GENERATOR_REPORTS
    if not path.exists() or end <= start:
        return {}
    reports = json.loads(path.read_text())
    if not reports:
        return {}
    wall = end - start
    capacity = min(cpus, len(reports))
    cpu = sum(report["cpu_s"] for report in reports)
    busy = sum(report["busy_s"] for report in reports)
    return {
        "generator_cpu_percent": round(cpu / wall / capacity * 100, 1),
        "generator_busy_percent": round(busy / wall / capacity * 100, 1),
        "generator_capacity_cpus": capacity,
        "generator_bound": busy / wall / capacity > headroom.SATURATED,
    }


def count_workers(host: str, wait_s: float = RESOLVE_WAIT_S) -> int:
    """How many addresses host resolves to (IPv4 ones where there are any): the worker containers there are."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror:
            found = []
        by_family: dict[int, set[str]] = {}
        for family, *_, address in found:
            by_family.setdefault(family, set()).add(str(address[0]))
        addresses = by_family.get(socket.AF_INET) or by_family.get(socket.AF_INET6)
        if addresses:
            return len(addresses)
        if time.monotonic() > deadline:
            raise TargetError(f"--workers-from {host}: the name resolves to no address within {wait_s:g} s")
        time.sleep(0.5)
