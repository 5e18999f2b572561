from django.urls import path
from store import accounts, pages, views

urlpatterns = [
    path("", views.index),
    path("items/", views.items),
    path("items/async/", views.items_async),
    path("items/<int:pk>/", views.item),
    path("orders/", views.orders),
    path("items/<int:pk>/page/", pages.ItemPage.as_view()),
    path("accounts/login/", accounts.Login.as_view()),
    path("accounts/logout/", accounts.Logout.as_view()),
    path("account/orders/", accounts.MyOrders.as_view()),
    path("items/new/", accounts.NewItem.as_view()),
]
