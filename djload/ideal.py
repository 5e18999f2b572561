"""The ideal model: what the queueing physics of each server mode allows for the sleeping views.

A sleeping view holds its request for ``sleep`` seconds and uses no CPU, so a run's shape depends only on
how many requests the server lets into the view at once (its slots) and on the swarm:

- gunicorn's sync worker (``wsgi``) serves one request at a time per worker, async views included
  (Django's WSGI handler runs them to completion with ``async_to_sync``): slots = workers. Ten requests
  on one worker take 10 × sleep, and their mean latency is (10 + 1) / 2 × sleep.
- ``wsgi-gthread`` serves ``threads`` requests at once per worker: slots = workers × threads, so the
  requests run in waves.
- Under ASGI (``asgi``, ``asgi-native``, ``uvicorn``) an async view that awaits its sleep lets the event
  loop run every other request meanwhile: no limit. A sync view is not bounded by the loop's default
  thread pool either: Django's ASGI handler opens a ``ThreadSensitiveContext`` per request and asgiref
  gives each context a single-thread executor of its own, so every request gets a thread (the talk's
  log shows a new thread id per request; djload counts them).
- ``/async/blocking/`` (``time.sleep`` inside an async view) blocks the event loop: slots = workers.
- ``wsgi-gevent`` (gunicorn's gevent worker) monkey-patches the worker: ``time.sleep``, sockets and so a
  sync HTTP client yield to its hub, so every sync view overlaps up to ``--worker-connections`` per
  worker. Not an async view: Django's WSGI handler runs it in an event loop through ``async_to_sync``,
  and all of a worker's greenlets share one OS thread, where asgiref refuses a second running loop
  ("You cannot use AsyncToSync in the same thread as an async event loop"): one at a time per worker,
  and the overlapping ones fail with HTTP 500.
- ``granian-wsgi`` runs ``threads`` blocking threads per worker: gthread's rule. ``granian-asgi`` and
  ``hypercorn`` run an event loop per worker: the ASGI rules above.
- The upstream-HTTP views wait the upstream's sleep (plus a loopback round trip): the same rules, the
  sync client holding its thread like ``time.sleep``. The database views' time is the database's, not a
  given sleep: no ideal; they are measured.

Each mode's row in modes.py names its rule (``Concurrency``) and each view in sites.py says whether it
is async and whether it blocks its thread: nothing here reads a mode's name or a URL.

The latencies come from a small deterministic simulation of the fixed-count swarm (every user sends
its next request as soon as the previous answer arrives; the server serves first come, first served),
which gives the closed formulas above for one request per user and stays right for more.
"""

import heapq
from dataclasses import dataclass
from typing import Any

from djload.metrics import deviation
from djload.modes import GEVENT_CONNECTIONS, MODES, Concurrency
from djload.sites import BUNDLED, Site, View, of_row

# A run whose total time or mean latency is further than this from the ideal is flagged.
TOLERANCE = 0.10


@dataclass(frozen=True)
class Ideal:
    slots: int | None  # requests the server lets into the view at once; None means no limit
    rule: str  # the physics in a few words, for the report
    total_time_s: float
    mean_latency_ms: float


def _slots(concurrency: Concurrency, workers: int, threads: int, view: View) -> tuple[int | None, str]:
    if concurrency is Concurrency.WORKERS:
        return workers, f"{workers} sync worker(s): {workers} request(s) at a time"
    if concurrency is Concurrency.THREADS:
        return workers * threads, f"{workers} worker(s) × {threads} threads: waves of {workers * threads}"
    if concurrency is Concurrency.GREENLETS and view.is_async:
        return workers, f"gevent: async views through async_to_sync, one loop per OS thread: {workers} at a time"
    if concurrency is Concurrency.GREENLETS:
        slot_count = workers * GEVENT_CONNECTIONS
        return slot_count, f"gevent makes blocking waits cooperative: {slot_count} at a time"
    if view.is_async and view.blocking:
        return workers, f"time.sleep blocks each worker's event loop: {workers} at a time"
    if not view.is_async:
        return None, "a thread per request (Django's ThreadSensitiveContext): all at once"
    return None, "one event loop overlaps every await: all at once"


def slots(mode: str, workers: int, threads: int, path: str, site: Site = BUNDLED) -> tuple[int | None, str]:
    """How many requests can be inside a sleeping view at once, and why."""
    view = site.view(path)
    if view is None:
        raise ValueError(f"{site.name} has no view at {path}")
    return _slots(MODES[mode].concurrency, workers, threads, view)


def simulate(users: int, requests_per_user: int, service_s: float, slot_count: int | None) -> list[tuple[float, float]]:
    """(send, answer) times in seconds of every request of a closed-loop fixed-count swarm, all users
    starting at 0, against a server with slot_count first-come-first-served slots."""
    capacity = users if slot_count is None else min(slot_count, users)
    free_at = [0.0] * capacity  # a heap: when each slot is next free
    ready = [(0.0, user) for user in range(users)]  # a heap: (send time, user)
    left = [requests_per_user] * users
    requests: list[tuple[float, float]] = []
    while ready:
        sent, user = heapq.heappop(ready)
        done = max(sent, heapq.heappop(free_at)) + service_s
        heapq.heappush(free_at, done)
        requests.append((sent, done))
        left[user] -= 1
        if left[user]:
            heapq.heappush(ready, (done, user))
    return requests


def ideal(
    mode: str,
    workers: int,
    threads: int,
    path: str,
    users: int,
    requests_per_user: int,
    sleep_s: float,
    site: Site = BUNDLED,
) -> Ideal | None:
    """The ideal run of a sleeping endpoint; None for the other endpoints (CPU-bound work is measured)."""
    view = site.view(path)
    if view is None or not view.waits_sleep or mode not in MODES:
        return None
    slot_count, rule = _slots(MODES[mode].concurrency, workers, threads, view)
    requests = simulate(users, requests_per_user, sleep_s, slot_count)
    mean_ms = sum(done - sent for sent, done in requests) / len(requests) * 1000
    return Ideal(slot_count, rule, max(done for _, done in requests), mean_ms)


def total_given_spread(requests_per_worker: list[int], slots_per_worker: int | None, sleep_s: float) -> float:
    """The ideal total time once the kernel has spread the connections as measured: the busiest worker's
    share of one-request-per-user traffic, served in waves of its own slots. With several workers the
    ideal above assumes an even spread; gunicorn and uvicorn leave it to the kernel, and a worker that
    accepts seven of ten connections serves them alone."""
    busiest = max(requests_per_worker, default=0)
    if not busiest:
        return 0.0
    return max(done for _, done in simulate(busiest, 1, sleep_s, slots_per_worker))


# The ideal's part of a row where there is no model: a CPU-bound view, a user's project's view, no swarm.
NO_MODEL: dict[str, Any] = {
    "ideal_total_time_s": None,
    "ideal_mean_latency_ms": None,
    "ideal_slots": None,
    "ideal_rule": "",
    "deviates_from_ideal": None,
    "ideal_total_time_given_spread_s": None,
}


def compare(result: dict[str, Any]) -> dict[str, Any]:
    """The ideal beside a summary entry: ideal numbers, deviations and the > 10 % flag (None: no model).
    The entry's path means what it does on the entry's own site: a user's project has no model."""
    path = str(result.get("endpoint", "")).split("?")[0]
    site = of_row(str(result.get("site") or ""))
    if site is None or not result.get("users"):
        return dict(NO_MODEL)
    model = ideal(
        str(result.get("server_mode")),
        int(result.get("workers") or 1),
        int(result.get("threads") or 1),
        path,
        int(result.get("users") or 0),
        int(result.get("requests_per_user") or 1),
        float(result.get("sleep_s") or 0.0),
        site,
    )
    if model is None:
        return dict(NO_MODEL)
    total = deviation(result.get("total_time_s"), model.total_time_s)
    mean = deviation(result.get("mean_latency_ms"), model.mean_latency_ms)
    deviations = [d for d in (total, mean) if d is not None]
    spread = result.get("requests_per_worker") or []
    per_worker = None if model.slots is None else max(1, model.slots // int(result.get("workers") or 1))
    given_spread = None
    if spread and int(result.get("requests_per_user") or 1) == 1:
        given_spread = total_given_spread(spread, per_worker, float(result.get("sleep_s") or 0.0))
    return {
        "ideal_total_time_s": model.total_time_s,
        "ideal_mean_latency_ms": model.mean_latency_ms,
        "ideal_slots": model.slots,
        "ideal_rule": model.rule,
        "deviates_from_ideal": any(abs(d) > TOLERANCE for d in deviations) if deviations else None,
        "ideal_total_time_given_spread_s": given_spread,
    }
