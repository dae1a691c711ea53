"""History pages of the audit trail (audit/views.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("org/<slug:slug>/history/<slug:kind>/<uuid:pk>/", views.org_history, name="org-history"),
    path("ops/history/<slug:kind>/<uuid:pk>/", views.ops_history, name="ops-history"),
]
