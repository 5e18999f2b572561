"""djload: Locust load tests of a Django site under gunicorn's WSGI and ASGI server modes."""

__version__ = "0.1.0"
