from django.urls import path

from django_adjango import views

urlpatterns = [
    path("async/non-blocking/", views.async_non_blocking),
    path("sync/blocking/", views.sync_blocking),
    path("async/blocking/", views.async_blocking),
    path("sync/computation/", views.sync_computation),
    path("async/computation/", views.async_computation),
    path("db/sync/", views.db_sync),
    path("db/async/", views.db_async),
    path("db/write/sync/", views.db_write_sync),
    path("db/write/async/", views.db_write_async),
    path("http/sync/", views.http_sync),
    path("http/async/", views.http_async),
    path("health/", views.health),
]
