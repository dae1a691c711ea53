from django.urls import path

from . import views

urlpatterns = [
    path("ops/db/", views.database_page, name="ops-db"),
    path("api/monitoring/performance", views.PerformanceView.as_view(), name="monitoring-performance"),
]
