"""The talk's views, plus /health/ for readiness.

Each view's response carries who served it and how long the view itself took, so a client can
split a request's latency into time queued before the view and time spent inside it.
"""

import asyncio
import functools
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

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


@timed
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")
