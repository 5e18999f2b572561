"""Settings for the talk's Django project: no database, no templates, DEBUG off.

The server mode sets ``DJLOAD_SLEEP`` (seconds a sleeping view waits) and may set
``DJANGO_SECRET_KEY``; ``DJANGO_ALLOWED_HOSTS`` adds host names, e.g. compose service names.
"""

import os
import secrets

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    host for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host
]

INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "django_adjango.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

SLEEP = float(os.environ.get("DJLOAD_SLEEP", "2"))

# The views' lines go to stderr, one whole line per record: print() from many threads interleaves.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s [%(process)d] %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "django_adjango": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        # With DEBUG off Django would only mail a 500's traceback; the server's log must show it.
        "django": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
