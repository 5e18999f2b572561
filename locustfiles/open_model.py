"""An open-model swarm: requests sent at fixed times, whatever the server's answers are doing.

The closed model (fixed_count.py) has a fixed number of users, each waiting for its answer before
sending the next request: when the server slows down, the users slow down with it and the waiting
that real, independent clients would have seen is never measured (coordinated omission). Here
request i is scheduled at t0 + i / --rate and, through the "scheduled" time in its context, djload's
Locust plugin measures its latency from that time, so time spent queueing — for a free connection,
in the listen backlog, behind a busy worker — counts.

One user drives the schedule and sends each request from its own greenlet; its FastHttpUser client
keeps at most --connections connections open at once. The run sends rate × --duration requests,
waits for the last answer and ends by itself. With the scenario's `login:`, that one user signs in
first (with the first account), before the schedule's clock starts.

How late each request's greenlet began against its schedule is the generator's own lateness: written to
schedule-<pid>.json beside the records, so that a run can tell a server that fell behind from a locust that
did (djload.capacity).
"""

import json
import os
import time
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

from djload import locust_login, mix, values
from djload.locust_plugin import send_entry, url_path


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--rate", type=float, default=10.0, help="Requests per second, sent at fixed times")
    parser.add_argument("--duration", type=float, default=1.0, help="Seconds of sending; rate × duration requests")
    parser.add_argument("--connections", type=int, default=10, help="At most this many connections at once")


class OpenModelUser(FastHttpUser):
    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        assert options is not None
        self.concurrency = options.connections
        self.network_timeout = self.connection_timeout = options.request_timeout
        super().__init__(environment)

    @task
    def send_on_schedule(self) -> None:
        options = self.environment.parsed_options
        count = round(options.rate * options.duration)
        url = url_path(options)
        # A mix (--mix) is sent in its fixed weighted order (djload/mix.py), request i the order's i-th entry.
        spec = json.loads(options.mix) if options.mix else {}
        entries, site = spec.get("entries", []), spec.get("site") or {}
        if spec.get("login"):
            try:  # one client sends the whole schedule: it signs in once, with the first account, before it
                locust_login.log_in(self, spec["login"], site, 0)
            except locust_login.LoginFailed:
                raise StopUser() from None
        # Scheduled times are kept on the wall clock because records carry wall-clock send times;
        # the sleeps use the monotonic clock so that a clock step cannot bunch requests together.
        wall0, mono0 = time.time(), time.monotonic()
        sending = []
        late_ms: list[float] = []

        sent = [0] * len(entries)  # requests of each entry so far: which of its values comes next
        weights = [entry["weight"] for entry in entries]
        order = mix.order(weights, sum(weights), 0) if entries else []

        def send(i: int, offset: float) -> None:
            late_ms.append((time.monotonic() - mono0 - offset) * 1000)
            context = {"scheduled": wall0 + offset}
            if order:
                index = order[int(i) % len(order)]
                entry, k = entries[index], sent[index]
                sent[index] += 1
                path = values.fill(entry["path"], entry.get("values") or {}, k)  # one user: the k-th value
                send_entry(self, entry, index, path, site, context)
            else:
                self.client.get(url, name=url, context=context)

        for i in range(count):
            offset = i / options.rate
            delay = mono0 + offset - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            sending.append(gevent.spawn(send, i, offset))
        gevent.joinall(sending)
        if options.records_dir:
            late_ms.sort()
            schedule = {"sent": len(late_ms), "late_ms_p99": late_ms[int(0.99 * (len(late_ms) - 1))] if late_ms else 0,
                        "late_ms_max": late_ms[-1] if late_ms else 0}  # fmt: skip
            Path(options.records_dir, f"schedule-{os.getpid()}.json").write_text(json.dumps(schedule))
        raise StopUser()
