"""What djload never writes into a summary: a reader refuses it rather than compute with it.

JSON as Python reads it accepts NaN and Infinity, and a hand-edited or corrupted summary may hold a
negative time: `compare` would call a run with NaN seconds faster than any other, and a report would draw
it. Every number djload writes is finite, and every time (a key ending in ``_s`` or ``_ms``) is at least 0.
"""

import math
from typing import Any

TIME_SUFFIXES = ("_s", "_ms")


def problem(key: str, value: Any) -> str | None:
    """Why value (a row's field key, as JSON read it) is not one djload writes: "key: what", or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{key}: {value!r} is not a number djload writes (a finite number)"
    if isinstance(value, int | float) and key.endswith(TIME_SUFFIXES) and value < 0:
        return f"{key}: {value!r} is a negative time (djload writes 0 or more)"
    if isinstance(value, dict):
        for name, item in value.items():
            if found := problem(str(name), item):
                return f"{key}: {found}"
    if isinstance(value, list):
        for n, item in enumerate(value, 1):
            if found := problem(key if not isinstance(item, dict | list) else f"item {n}", item):
                return f"{key}: {found}" if isinstance(item, dict | list) else found
    return None
