"""Public status pages (no login): ``/status/<slug>/`` and ``/status/<slug>/feed.atom``."""

from django.urls import path

from .feeds import StatusFeed
from .views import public_status

urlpatterns = [
    path("status/<slug:slug>/", public_status, name="status-page"),
    path("status/<slug:slug>/feed.atom", StatusFeed(), name="status-feed"),
]
