"""Receivers of the notifications app's signals: a disabled channel is itself an alert.

When a channel is disabled by errors (not by a person), the ops team and the channel's organization
must hear of it through the channels that still work: an ordinary ``portal`` alert,
``NotificationChannelDisabled``, routed like any other (the disabled channel's own delivery is held).
Enabling the channel again resolves it.
"""

from __future__ import annotations

from wedsync_ops.tenancy.context import service_context

ALERTNAME = "NotificationChannelDisabled"


def _labels(channel) -> dict[str, str]:
    labels = {
        "alertname": ALERTNAME,
        "channel": channel.name,
        "channel_id": str(channel.pk),
        "channel_kind": str(channel.kind),
        "severity": "warning",
    }
    if channel.organization_id is not None:
        labels["organization"] = channel.organization.slug
    return labels


def channel_disabled_alert(sender, *, channel, reason, now, **kwargs) -> None:
    """``notifications.signals.channel_disabled``: fire ``NotificationChannelDisabled`` for the channel.

    Severity warning, priority high (a wedding-day p0 when the protocol is on: nobody may be told of
    a wedding-day outage through this channel). Fired in a service context, in the sender's transaction.
    """
    from alerts.fingerprint import labels_fingerprint
    from alerts.models import AlertHistory
    from alerts.services import alert_fire

    labels = _labels(channel)
    with service_context():
        alert_fire(
            organization_id=channel.organization_id,
            fingerprint=labels_fingerprint(labels),
            source=AlertHistory.Source.PORTAL,
            title=f"Notification channel {channel.name!r} disabled",
            labels=labels,
            annotations={"summary": f"Channel {channel.name} disabled: {reason}"[:500]},
            severity="warning",
            priority="high",
            starts_at=now,
            now=now,
            description=f"{reason}\n\nIts notifications are held; enable it again (or fix its target) to send them.",
        )


def channel_enabled_resolve(sender, *, channel, now, **kwargs) -> None:
    """``notifications.signals.channel_enabled``: resolve the channel's ``NotificationChannelDisabled`` alert."""
    from alerts.fingerprint import labels_fingerprint
    from alerts.models import AlertHistory
    from alerts.services import alert_resolve

    with service_context():
        alert = AlertHistory.objects.filter(
            organization_id=channel.organization_id,
            fingerprint=labels_fingerprint(_labels(channel)),
            status__in=AlertHistory.OPEN_STATUSES,
        ).first()
        if alert is not None:
            alert_resolve(alert=alert, ends_at=now, now=now)
