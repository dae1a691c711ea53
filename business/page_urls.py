"""Server-rendered pages of the business app."""

from django.urls import path

from . import views

urlpatterns = [
    path("org/<slug:slug>/business/", views.org_business, name="business-org"),
    path("ops/business/", views.ops_business, name="ops-business"),
]
