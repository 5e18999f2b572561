"""What djload may print or store of a secret: nothing. The one place that says what a secret is and
masks it (`***`), used for every file a run writes, every line it prints and every error.

A secret is a URL's userinfo password (http://user:pass@host/, postgresql://…), the value of a header,
JSON or form field or URL query parameter whose name says it is one (SECRET_NAMES), the headers that
carry credentials whatever their value (Authorization, Proxy-Authorization, Cookie), and a `login:`
password. Imports nothing of djload: every module may use it.
"""

import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

MASK = "***"
SECRET_NAMES = ("password", "passwd", "secret", "token", "api-key", "apikey", "api_key", "session")
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")

# The userinfo's password in scheme://user:password@host/... (the last "@" before the path ends it).
_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:\s]*):[^/?#\s]*@")
# A query parameter (or a form-encoded field) name=value inside any text: after '?', '&' or ';'.
_QUERY_PAIR = re.compile(r"([?&;])([^=&#\s?;]+)=([^&#\s;]*)")


def is_secret_name(name: str) -> bool:
    """Whether a field, parameter or header of this name holds a secret."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered for word in SECRET_NAMES)


def masked(text: str) -> str:
    """text as djload may print or store it: every URL's password and every secret query parameter's
    value (…?token=abc → …?token=***) masked."""

    def pair(match: re.Match[str]) -> str:
        name = urllib.parse.unquote_plus(match[2])
        return f"{match[1]}{match[2]}={MASK}" if is_secret_name(name) and match[3] else match[0]

    return _QUERY_PAIR.sub(pair, _PASSWORD.sub(rf"\1:{MASK}@", text))


def without_userinfo(url: str) -> str:
    """url without its user and password (http://user:pass@host/ → http://host/): what may be shown or sent on."""
    parts = urllib.parse.urlsplit(url)
    return (
        urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])) if "@" in parts.netloc else url
    )


def mask_file(path: Path) -> None:
    """Rewrite a log another program wrote (the server's access log, locust's log) with its secrets masked:
    a query's token in a request line is the server's to log, not the results' to keep."""
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return
    clean = "".join(masked(line) for line in text.splitlines(keepends=True))
    if clean != text:
        path.write_text(clean, encoding="utf-8", errors="surrogateescape")


def masked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A mapping of headers or form fields with each secret's value masked."""
    return {name: MASK if is_secret_name(str(name)) else value for name, value in fields.items()}


def masked_json(value: Any) -> Any:
    """A JSON value with the value of every key that names a secret masked, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if is_secret_name(str(k)) else masked_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_json(item) for item in value]
    return value


def masked_json_text(text: str | None) -> str | None:
    """A JSON body as text, its secrets masked (a body that is not JSON is masked as query-like text)."""
    if text is None:
        return None
    try:
        return json.dumps(masked_json(json.loads(text)))
    except ValueError:
        return masked("?" + text)[1:]
