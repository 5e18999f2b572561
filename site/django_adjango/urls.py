from django.urls import path

from django_adjango import views

urlpatterns = [
    path("async/non-blocking/", views.async_non_blocking),
    path("sync/blocking/", views.sync_blocking),
    path("async/blocking/", views.async_blocking),
    path("sync/computation/", views.sync_computation),
    path("async/computation/", views.async_computation),
    path("health/", views.health),
]
