from django.urls import path

from . import api, views

urlpatterns = [
    path("ops/db/", views.database_page, name="ops-db"),
    path("api/monitoring/performance", api.PerformanceView.as_view(), name="monitoring-performance"),
]
