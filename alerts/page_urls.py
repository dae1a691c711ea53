"""Server-rendered pages of the alerts app, mounted at the site root."""

from django.urls import path  # noqa: F401

urlpatterns = []
