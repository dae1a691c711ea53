"""Incidents API URLs, included under ``/api/v1/``."""

from rest_framework.routers import SimpleRouter

from .api import IncidentViewSet

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = router.urls
