"""djload: Locust load tests of a Django site under gunicorn's WSGI and ASGI server modes."""

from pathlib import Path

__version__ = "0.1.0"

# The checkout djload runs from: the bundled site, the locustfiles and the default results folder live here.
ROOT = Path(__file__).resolve().parent.parent
