"""A middleware of the shop's own, written the old way: a plain class, so Django takes it as sync only.

Under an ASGI server Django runs it in a thread, on every request, and hands the request back to the event
loop after it: the cost djload's diagnosis names.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServedBy:
    """Says on every answer which of the shop's processes served it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Shop-Served-By"] = "shop"
        return response
