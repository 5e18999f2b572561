"""The shop's pages for signed-in people: Django's own login and POST-only logout, a page behind
LoginRequiredMixin, and an HTML create form behind PermissionRequiredMixin (a 302 after a valid POST)."""

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.views import View
from django.views.generic.edit import CreateView

from store.models import Item, Order


class Login(LoginView):
    template_name = "store/login.html"


class Logout(LogoutView):  # Django 5: POST only, a GET is a 405
    pass


class MyOrders(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        count = Order.objects.count()
        return HttpResponse(f"<h1>Orders of {request.user.get_username()}</h1><p>{count} orders</p>")


class NewItem(PermissionRequiredMixin, CreateView):
    permission_required = "store.add_item"
    model = Item
    fields = ["name", "price_cents"]
    template_name = "store/item_form.html"
    success_url = "/items/"
