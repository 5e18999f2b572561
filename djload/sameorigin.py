"""The web UI's check of where a state-changing request comes from, as Django's CSRF protection does it.

A page on another site can make the browser POST a form to ``http://127.0.0.1:8089/swarm`` and start a
swarm; the browser then says where the page was: ``Origin`` (or, from older browsers, ``Referer``). A
request whose Origin, else Referer, is not the UI's own address is refused (403), as Django's
``CsrfViewMiddleware`` refuses it. A request with neither comes from no page (curl, a script the user
runs) and passes, as it does under Django over HTTP.

The UI's own address is the ``Host`` the request names, and that host must be one the UI listens as:
its --web-host, or for a wildcard one (0.0.0.0, ::) an IP address or ``localhost``, never another name.
Without that, a page whose own name is made to resolve to 127.0.0.1 (DNS rebinding) would be
same-origin with itself. Imports nothing of locust or flask: the plugin calls it with the headers.
"""

import ipaddress
import urllib.parse

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
WILDCARDS = ("", "0.0.0.0", "::", "*")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else "null"


def _listens_as(host: str, web_host: str) -> bool:
    """Whether host (the Host header's name, no port) is a name the UI was started to answer as."""
    host = host.strip("[]").lower()
    if web_host.strip("[]").lower() not in WILDCARDS:
        return host == web_host.strip("[]").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return True


def refusal(
    method: str, scheme: str, host: str, origin: str | None, referer: str | None, web_host: str, web_port: int
) -> str | None:
    """Why the UI refuses this request (a 403's message), or None when it may go on."""
    if method.upper() in SAFE_METHODS:
        return None
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not name or not port.isdigit() or int(port) != web_port or not _listens_as(name, web_host):
        return f"Host {host!r} is not this web UI's address (port {web_port}): request refused"
    own = f"{scheme}://{host}".lower()
    if origin is not None:
        if _origin(origin) != own:
            return f"Origin {origin!r} is not this web UI ({own}): cross-origin request refused"
        return None
    if referer is not None and _origin(referer) != own:
        return f"Referer {_origin(referer)!r} is not this web UI ({own}): cross-origin request refused"
    return None
