"""Notification channels API (issue 14 §7): ``GET /api/v1/channels/`` and ``GET /api/v1/channels/<id>/``.

Read-only: a channel's name, kind, whether it is enabled (and why not), and whether it is paged on
wedding days; never its configuration (webhook URLs, keys and tokens stay encrypted and unshown).
Staff see every channel, platform ones (``organization`` null) included; a vendor user their own
organization's; another organization's channel answers 404 like an unknown id (RLS hides it too).
Changes are made on the portal's channels page and in the admin (``notifications.services``).
"""

from rest_framework import permissions, serializers, viewsets

from wedsync_ops.tenancy.context import current_tenant_context

from .models import NotificationChannel


class ChannelSerializer(serializers.ModelSerializer):
    """A channel without its configuration; ``organization``: its slug (null: a platform channel)."""

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = NotificationChannel
        fields = (
            "id",
            "organization",
            "name",
            "kind",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "wedding_day_emergency",
            "created_at",
        )
        read_only_fields = fields


class ChannelViewSet(viewsets.ReadOnlyModelViewSet):
    """Channels by name; filters ``kind`` and ``enabled``."""

    queryset = NotificationChannel.objects.none()  # for the schema; get_queryset decides
    serializer_class = ChannelSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ("kind", "enabled")

    def get_queryset(self):
        qs = NotificationChannel.objects.select_related("organization").order_by("name", "id")
        if self.request.user.is_staff:
            return qs
        ctx = current_tenant_context()
        if ctx.role != "vendor" or ctx.org_id is None:
            return qs.none()
        return qs.filter(organization_id=ctx.org_id)
