"""Server-rendered pages of the business app."""

from django.urls import path

from . import pages

urlpatterns = [
    path("org/<slug:slug>/business/", pages.org_business, name="business-org"),
    path("ops/business/", pages.ops_business, name="ops-business"),
]
