"""Receivers of the notifications app's signals (it cannot import this app, so it tells it)."""

from __future__ import annotations

from wedsync_ops.tenancy.context import service_context


def record_failed_delivery(sender, *, delivery, now, **kwargs) -> None:
    """``notifications.signals.delivery_failed``: a failed page of an incident is on its timeline.

    Writes an internal ``notification`` row "Notification to <channel> failed: <reason>" keeping the
    delivery id, so the on-call engineer sees it beside the escalation it belonged to.
    """
    if delivery.incident_id is None:
        return
    from .models import Incident, IncidentUpdate

    with service_context():
        incident = Incident.objects.filter(pk=delivery.incident_id).only("id", "organization_id").first()
        if incident is None:
            return
        step = f" (step {delivery.step})" if delivery.step else ""
        IncidentUpdate.objects.create(
            organization_id=incident.organization_id,
            incident_id=incident.pk,
            kind=IncidentUpdate.Kind.NOTIFICATION,
            vendor_visible=False,
            created_at=now,
            deliveries=[str(delivery.pk)],
            message=f"Notification {delivery.event}{step} to {delivery.target_label} failed after "
            f"{delivery.attempts} attempt(s): {delivery.last_error[:300]}",
        )
