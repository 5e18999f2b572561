"""Who may use a site's control endpoint (`djload serve --control-port`): whoever holds the run's token.

The endpoint hands out the server's log lines and starts and stops its sampling; without a check any
local account (or any container on the network) could read the logs or spoil a measurement. The token
is ``DJLOAD_CONTROL_TOKEN`` when it is set, which both sides of a compose run read; else a random one
per `djload serve`, which prints its endpoint's URL with the token as the password
(``http://djload:TOKEN@host:port``), the URL to give `djload run --control`.

A request carries the token as a basic password (any user name, as the --control URL's credentials
send it) or as ``Authorization: Bearer TOKEN`` (what `djload run` sends from the variable when its
--control URL has no credentials). Compared in constant time.
"""

import base64
import binascii
import hmac
import os
import secrets
import urllib.parse

TOKEN_ENV = "DJLOAD_CONTROL_TOKEN"
USER = "djload"  # the user name of the printed URL; any user name is accepted
REALM = 'Basic realm="djload control", charset="UTF-8"'


def token() -> str:
    """The endpoint's token: the variable's value, or a new random one."""
    return os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)


def from_environment() -> bool:
    """Whether the token is the variable's: the user has it already, and a printed URL need not show it."""
    return bool(os.environ.get(TOKEN_ENV))


def with_token(url: str, secret: str) -> str:
    """url with the token as its password: the URL to give `djload run --control`."""
    parts = urllib.parse.urlsplit(url)
    credentials = f"{USER}:{urllib.parse.quote(secret, safe='')}"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{credentials}@{parts.netloc}"))


def presented(authorization: str | None) -> str | None:
    """The token a request's Authorization header carries (basic password or bearer), or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def allowed(authorization: str | None, secret: str) -> bool:
    given = presented(authorization)
    return given is not None and hmac.compare_digest(given.encode(), secret.encode())


def client_headers(url: str) -> dict[str, str]:
    """What `djload run` adds to a control request: the variable's token when url has no credentials of
    its own (those go in a basic header, servers.request)."""
    if urllib.parse.urlsplit(url).username is None and os.environ.get(TOKEN_ENV):
        return {"Authorization": f"Bearer {os.environ[TOKEN_ENV]}"}
    return {}
