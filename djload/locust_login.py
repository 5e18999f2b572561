"""A locust user's session with a Django project: its sign-in through the project's own login form, and
the CSRF token its unsafe requests carry. Only locust processes import this module (it runs inside a
locust user); any locustfile's users may call `log_in`, djload's own (locustfiles/fixed_count.py) do.

Signing in is what a browser does: GET the form (Django sets the CSRF cookie), POST it with
`csrfmiddlewaretoken` and a `Referer` of the site, and check that the project's session cookie is set.
Its requests carry the LOGIN context: djload's plugin keeps them out of the records, and this module
keeps their count, times and failures, saved beside the records as logins-<pid>.json.
"""

import json
import os
import secrets
import string
import time
import urllib.parse
from pathlib import Path
from typing import Any

from djload import records

LOGIN = "djload_login"  # the request context's key of a sign-in's requests
times_ms: list[float] = []  # this process's users' sign-ins, each GET and POST together
failures: list[str] = []  # each failed sign-in: which account and what the server answered
finished = 0  # this process's users done signing in, well or not
CSRF_CHARS = string.ascii_letters + string.digits  # Django's CSRF secret: 32 of these
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")  # the methods Django's CsrfViewMiddleware checks


class LoginFailed(Exception):
    """A user could not sign in; the message says which account and what the server answered."""


def reset() -> None:
    global finished
    finished = 0
    times_ms.clear()
    failures.clear()


def own() -> dict[str, list[Any]]:
    return {"times_ms": list(times_ms), "failures": list(failures)}


def add(data: dict[str, list[Any]] | None) -> None:
    """A worker's sign-ins, on its master."""
    if data:
        times_ms.extend(data.get("times_ms", []))
        failures.extend(data.get("failures", []))


def save(folder: Path) -> None:
    if times_ms or failures:
        (folder / records.LOGINS.format(pid=os.getpid())).write_text(json.dumps(own()))


def cookie(user: Any, name: str) -> str | None:
    """The value of the user's cookie of this name (HttpUser's requests jar and FastHttpUser's are both
    http.cookiejar jars)."""
    return next((c.value for c in _jar(user) if c.name == name and c.value), None)


def _jar(user: Any) -> Any:
    """FastHttpUser's cookiejar or HttpUser's cookies (an empty jar is falsy: no `or` between them)."""
    jar = getattr(user.client, "cookiejar", None)
    return user.client.cookies if jar is None else jar


def csrf_token(user: Any, cookie_name: str) -> str:
    """The token for an unsafe request: the user's CSRF cookie. A user that has none (an anonymous one
    whose pages never asked Django for a token) gets a fresh secret of Django's form as its cookie, as
    Django itself would set it: the cookie and the token are both the client's (double submit), which
    is all CsrfViewMiddleware compares, and no request of its own is needed."""
    found = cookie(user, cookie_name)
    if found:
        return found
    from requests.cookies import create_cookie  # locust's own dependency, for both clients' jars

    token = "".join(secrets.choice(CSRF_CHARS) for _ in range(32))
    _jar(user).set_cookie(create_cookie(cookie_name, token, domain=urllib.parse.urlsplit(user.host).hostname or ""))
    return token


def csrf_headers(user: Any, path: str, cookie_name: str) -> dict[str, str]:
    """X-CSRFToken and a Referer of the site: what an unsafe request needs to pass CsrfViewMiddleware."""
    return {"X-CSRFToken": csrf_token(user, cookie_name), "Referer": site_url(user) + path}


def site_url(user: Any) -> str:
    """The site's URL as a Referer names it: no user or password (the server logs its Referers)."""
    parts = urllib.parse.urlsplit(str(user.host))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], "", "", ""))


def log_in(user: Any, login: dict[str, Any], site: dict[str, str], number: int, **kwargs: Any) -> None:
    """Sign user in with account number `number` (mod the accounts): LoginFailed if it cannot.

    login: {"path", "accounts": [{"username", "password"}], "fields": {"username", "password"}};
    site: the project's {"session_cookie", "csrf_cookie"}; kwargs go to each request (a timeout).
    """
    accounts = login["accounts"]
    account = accounts[number % len(accounts)]
    username, path = account["username"], login["path"]
    started = time.perf_counter()
    try:
        status = _send(user, "GET", path, None, {}, kwargs)
        if status != 200:
            raise LoginFailed(f"login as {username!r}: GET {path} answered HTTP {status}, not the login form")
        token = cookie(user, site["csrf_cookie"])
        if not token:
            raise LoginFailed(f"login as {username!r}: GET {path} set no {site['csrf_cookie']} cookie")
        fields = login["fields"]
        form = {"csrfmiddlewaretoken": token, fields["username"]: username, fields["password"]: account["password"]}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": site_url(user) + path}
        status = _send(user, "POST", path, urllib.parse.urlencode(form).encode(), headers, kwargs)
        if not 300 <= status < 400 or not cookie(user, site["session_cookie"]):
            why = "wrong username or password?" if status == 200 else "not a redirect"
            raise LoginFailed(f"login as {username!r}: POST {path} answered HTTP {status} and set no "
                              f"{site['session_cookie']} cookie ({why})")  # fmt: skip
    except LoginFailed as exc:
        failures.append(str(exc))
        raise
    else:
        times_ms.append((time.perf_counter() - started) * 1000)
    finally:
        _finished()


def _finished() -> None:
    global finished
    finished += 1


def all_signed_in(user: Any) -> bool:
    """Whether every user of this process is done signing in: the start barrier waits for it, so that no
    sign-in (a password hash costs the server tens of milliseconds) overlaps the measured requests."""
    runner = user.environment.runner
    return runner is None or finished >= runner.user_count


def _send(user: Any, method: str, path: str, data: bytes | None, headers: dict[str, str], kwargs: Any) -> int:
    with user.client.request(method, path, name=f"login {method}", data=data, headers=headers,
                             catch_response=True, allow_redirects=False, context={LOGIN: True},
                             **kwargs) as response:  # fmt: skip
        response.success()  # judged here, not by locust's counts
        return int(response.status_code or 0)
