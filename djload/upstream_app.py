"""The upstream that the HTTP views call: an ASGI app that waits ``?sleep=S`` seconds, then answers.

A plain ASGI callable with no framework, so that the time a view waits on it is the sleep and little
else, and one event loop holds as many waiting requests as there are connections. It imports nothing
of djload: uvicorn loads it in its own process.
"""

import asyncio
import math
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_SLEEP_S = 3600.0


def _sleep(query_string: bytes) -> float | None:
    """The requested wait in seconds; None when it is not a number from 0 to MAX_SLEEP_S."""
    values = urllib.parse.parse_qs(query_string.decode("latin-1")).get("sleep", ["0"])
    try:
        seconds = float(values[0])
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds <= MAX_SLEEP_S else None


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return  # lifespan is switched off on the command line; nothing else is served
    seconds = _sleep(scope.get("query_string", b""))
    if seconds is None:
        await _answer(send, 400, f"sleep must be a number of seconds from 0 to {MAX_SLEEP_S:g}\n".encode())
        return
    await asyncio.sleep(seconds)
    await _answer(send, 200, f"upstream waited {seconds:g} s\n".encode())
