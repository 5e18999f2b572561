"""The shop's views: sync and async reads, and a JSON POST that writes an order."""

import json

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from store.models import Item, Order


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"items": "/items/", "orders": "/orders/"})


@require_GET
def items(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"items": list(Item.objects.order_by("pk").values("id", "name", "price_cents"))})


@require_GET
async def items_async(request: HttpRequest) -> HttpResponse:
    rows = [row async for row in Item.objects.order_by("pk").values("id", "name", "price_cents")]
    return JsonResponse({"items": rows, "orders": await Order.objects.acount()})


@require_GET
def item(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Item, pk=pk)
    return JsonResponse({"id": found.pk, "name": found.name, "price_cents": found.price_cents})


@csrf_exempt  # a JSON API for clients without a session
@require_POST
def orders(request: HttpRequest) -> HttpResponse:
    try:
        data = json.loads(request.body)
        item_id, quantity = int(data["item"]), int(data["quantity"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "send JSON with an integer item and quantity"}, status=400)
    found = get_object_or_404(Item, pk=item_id)
    interface = "asgi" if isinstance(request, ASGIRequest) else "wsgi"
    order = Order.objects.create(item=found, quantity=quantity, interface=interface)
    return JsonResponse({"id": order.pk, "interface": interface}, status=201)
