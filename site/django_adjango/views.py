"""The talk's views, the database and upstream-HTTP views, plus /health/ for readiness.

Each view's response carries who served it and how long the view itself took, so a client can
split a request's latency into time queued before the view and time spent inside it.
"""

import asyncio
import functools
import logging
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable

import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from django_adjango.store.models import SEED_ROWS, Entry, Item

logger = logging.getLogger(__name__)

SyncView = Callable[[HttpRequest], HttpResponse]
AsyncView = Callable[[HttpRequest], Awaitable[HttpResponse]]


def _stamp(response: HttpResponse, started: float, began: float) -> HttpResponse:
    response["X-Worker-Pid"] = str(os.getpid())
    response["X-Thread-Id"] = str(threading.get_native_id())
    response["X-View-Start"] = f"{started:.6f}"
    response["X-View-Ms"] = f"{(time.perf_counter() - began) * 1000:.3f}"
    return response


def timed(view: SyncView) -> SyncView:
    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        started, began = time.time(), time.perf_counter()
        return _stamp(view(request), started, began)

    return wrapper


def timed_async(view: AsyncView) -> AsyncView:
    @functools.wraps(view)
    async def wrapper(request: HttpRequest) -> HttpResponse:
        started, began = time.time(), time.perf_counter()
        return _stamp(await view(request), started, began)

    return wrapper


def _times(request: HttpRequest) -> int:
    try:
        return max(0, int(request.GET.get("times", "10")))
    except ValueError:
        return 10


def computation(request: HttpRequest, times: int = 10) -> HttpResponse:
    n = times
    while n > 0:
        n -= 1
    return HttpResponse("sync response")


@timed_async
async def async_non_blocking(request: HttpRequest) -> HttpResponse:
    logger.info("starting async")
    await asyncio.sleep(settings.SLEEP)
    logger.info("resuming async - Running in thread: %s", threading.get_native_id())
    return HttpResponse("async response")


@timed
def sync_blocking(request: HttpRequest) -> HttpResponse:
    logger.info("starting sync")
    time.sleep(settings.SLEEP)
    logger.info("resuming sync - Running in thread: %s", threading.get_native_id())
    return HttpResponse("sync response")


@timed_async
async def async_blocking(request: HttpRequest) -> HttpResponse:
    # The common mistake: a blocking call inside an async view stalls the whole event loop.
    logger.info("starting async-blocking")
    time.sleep(settings.SLEEP)
    logger.info("resuming async-blocking - Running in thread: %s", threading.get_native_id())
    return HttpResponse("async response")


@timed
def sync_computation(request: HttpRequest) -> HttpResponse:
    return computation(request, _times(request))


@timed_async
async def async_computation(request: HttpRequest) -> HttpResponse:
    n = _times(request)
    while n > 0:
        n -= 1
    return HttpResponse("async response")


def _queries(request: HttpRequest) -> int:
    try:
        return min(1000, max(0, int(request.GET.get("queries", "5"))))
    except ValueError:
        return 5


def _keys(count: int) -> list[int]:
    return [random.randint(1, SEED_ROWS) for _ in range(count)]


@timed
def db_sync(request: HttpRequest) -> HttpResponse:
    logger.info("starting db-sync")
    total = sum(Item.objects.get(number=key).price_cents for key in _keys(_queries(request)))
    logger.info("resuming db-sync - Running in thread: %s", threading.get_native_id())
    return HttpResponse(f"sync response {total}")


@timed_async
async def db_async(request: HttpRequest) -> HttpResponse:
    # Django's async ORM still runs each query in a thread (one per request, through sync_to_async).
    logger.info("starting db-async")
    total = 0
    for key in _keys(_queries(request)):
        total += (await Item.objects.aget(number=key)).price_cents
    logger.info("resuming db-async - Running in thread: %s", threading.get_native_id())
    return HttpResponse(f"async response {total}")


@timed
def db_write_sync(request: HttpRequest) -> HttpResponse:
    logger.info("starting db-write-sync")
    entry = Entry.objects.create(note="sync")
    logger.info("resuming db-write-sync - Running in thread: %s", threading.get_native_id())
    return HttpResponse(f"sync response {entry.pk}")


@timed_async
async def db_write_async(request: HttpRequest) -> HttpResponse:
    logger.info("starting db-write-async")
    entry = await Entry.objects.acreate(note="async")
    logger.info("resuming db-write-async - Running in thread: %s", threading.get_native_id())
    return HttpResponse(f"async response {entry.pk}")


# One client per process (sync) or per event loop (async), built once: a client with certificate
# checks loads the CA bundle, about 19 ms of CPU, which would be counted as the view's; the upstream is
# plain HTTP on loopback, so none are loaded. No keep-alive pool: httpcore's pool looks through its idle
# connections on every request, and with 100 kept open that cost about 25 ms of CPU per request (measured),
# more than opening a loopback connection each time. Proxies from the environment must not carry a call
# to our own upstream elsewhere.
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=0)
_TIMEOUT = httpx.Timeout(120.0)
_sync_client: httpx.Client | None = None
_sync_client_lock = threading.Lock()
# Under ASGI a worker has one loop for its life; under WSGI async_to_sync runs each request in a new
# loop, so a closed loop's client is dropped (its connections are gone with the loop).
_async_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}


def _upstream_url() -> str:
    if not settings.UPSTREAM_URL:
        raise RuntimeError("DJLOAD_UPSTREAM_URL is not set: the HTTP views need an upstream to call")
    return f"{settings.UPSTREAM_URL}/?sleep={settings.SLEEP!r}"


def _client() -> httpx.Client:
    global _sync_client
    with _sync_client_lock:
        if _sync_client is None:
            _sync_client = httpx.Client(limits=_LIMITS, timeout=_TIMEOUT, trust_env=False, verify=False)
        return _sync_client


def _async_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    for closed in [other for other in _async_clients if other.is_closed()]:
        del _async_clients[closed]
    client = _async_clients.get(loop)
    if client is None:
        client = httpx.AsyncClient(limits=_LIMITS, timeout=_TIMEOUT, trust_env=False, verify=False)
        _async_clients[loop] = client
    return client


@timed
def http_sync(request: HttpRequest) -> HttpResponse:
    logger.info("starting http-sync")
    answer = _client().get(_upstream_url())
    answer.raise_for_status()
    logger.info("resuming http-sync - Running in thread: %s", threading.get_native_id())
    return HttpResponse("sync response " + answer.text)


@timed_async
async def http_async(request: HttpRequest) -> HttpResponse:
    logger.info("starting http-async")
    answer = await _async_client().get(_upstream_url())
    answer.raise_for_status()
    logger.info("resuming http-async - Running in thread: %s", threading.get_native_id())
    return HttpResponse("async response " + answer.text)


@timed
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")
