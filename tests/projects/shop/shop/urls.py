from django.urls import path
from store import pages, views

urlpatterns = [
    path("", views.index),
    path("items/", views.items),
    path("items/async/", views.items_async),
    path("items/<int:pk>/", views.item),
    path("orders/", views.orders),
    path("items/<int:pk>/page/", pages.ItemPage.as_view()),
]
