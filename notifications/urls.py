"""API routes of the notifications app (included under ``/api/v1/``)."""

from rest_framework.routers import SimpleRouter

from .api import ChannelViewSet

router = SimpleRouter()
router.register("channels", ChannelViewSet, basename="channel")

urlpatterns = router.urls
