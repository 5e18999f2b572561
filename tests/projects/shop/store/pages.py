"""The shop's HTML pages: an item's page by primary key, as a project's detail pages are written."""

from typing import Any

from django.http import HttpResponse
from django.utils.html import escape
from django.views.generic import DetailView

from store.models import Item


class ItemPage(DetailView):
    model = Item

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        # No template: the shop has no template settings of its own, and the page is one line.
        item = context["object"]
        return HttpResponse(f"<!doctype html><title>{escape(item.name)}</title><h1>{escape(item.name)}</h1>")
