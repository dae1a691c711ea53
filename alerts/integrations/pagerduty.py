"""PagerDuty Events API v2, inbound: ``trigger``, ``acknowledge`` and ``resolve`` by ``dedup_key``.

Request body (PagerDuty's documented format)::

    {"routing_key": str (32 chars at PagerDuty; any non-empty string here),
     "event_action": "trigger" | "acknowledge" | "resolve",
     "dedup_key": str <= 255 chars (required for acknowledge/resolve; a trigger
                  without one gets a new UUID, returned in the answer),
     "payload": {"summary": str <= 1024, "source": str, "severity":
                 "critical" | "error" | "warning" | "info",
                 "timestamp": ISO 8601 (optional), "component", "group",
                 "class": str (optional), "custom_details": object (optional)},
     "links": [...], "images": [...], "client": str, "client_url": str}

Identity: the alert's labels hold ``dedup_key``, and its fingerprint is that
of ``{"dedup_key": key}`` (``alerts.fingerprint``), so every event with one
key addresses one open alert; after ``resolve`` a new ``trigger`` opens a new
alert. Organization: the integration's; for a platform-wide integration,
``payload.custom_details.organization`` (a slug; unknown: unassigned).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from alerts.fingerprint import labels_fingerprint
from alerts.integrations.alertmanager import PayloadError, load_json_object
from alerts.models import AlertHistory, AlertIntegration
from alerts.services import alert_acknowledge, alert_fire, alert_resolve
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.models import Organization
from wedsync_ops.validation import InputError, check_time

ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
# PagerDuty severity -> (alert_severity, alert_priority)
SEVERITIES = {
    "critical": (AlertSeverity.CRITICAL, AlertPriority.HIGH),
    "error": (AlertSeverity.CRITICAL, AlertPriority.MEDIUM),
    "warning": (AlertSeverity.WARNING, AlertPriority.MEDIUM),
    "info": (AlertSeverity.INFO, AlertPriority.LOW),
}


@dataclass(frozen=True)
class PagerDutyEvent:
    """A validated event. ``payload`` fields are set for ``trigger`` only."""

    action: str
    dedup_key: str
    routing_key: str
    summary: str = ""
    source: str = ""
    severity: str = ""
    timestamp: dt.datetime | None = None
    component: str = ""
    group: str = ""
    event_class: str = ""
    custom_details: dict = field(default_factory=dict)
    link: str = ""

    @property
    def fingerprint(self) -> str:
        return dedup_fingerprint(self.dedup_key)


def dedup_fingerprint(dedup_key: str) -> str:
    """The fingerprint of every alert with ``dedup_key``: of the label set ``{"dedup_key": key}``."""
    return labels_fingerprint({"dedup_key": dedup_key})


def _optional_str(data: dict, name: str, where: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}{name}", f"must be a string, got {type(value).__name__}")
    return value


def parse_pagerduty_event(body: bytes) -> PagerDutyEvent:
    """Validate an Events API v2 body; raises ``PayloadError`` naming the field (e.g. ``payload.severity``)."""
    data = load_json_object(body)
    routing_key = data.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key:
        raise PayloadError("routing_key", "a non-empty string is required")
    action = data.get("event_action")
    if action not in ACTIONS:
        raise PayloadError("event_action", f"must be one of {', '.join(ACTIONS)}, got {action!r}"[:200])
    dedup_key = data.get("dedup_key")
    if dedup_key is None and action == "trigger":
        dedup_key = str(uuid.uuid4())
    if not isinstance(dedup_key, str) or not dedup_key:
        raise PayloadError("dedup_key", f"a non-empty string is required for {action}")
    if len(dedup_key) > MAX_DEDUP_KEY:
        raise PayloadError("dedup_key", f"at most {MAX_DEDUP_KEY} characters")
    if action != "trigger":
        return PagerDutyEvent(action=action, dedup_key=dedup_key, routing_key=routing_key)
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise PayloadError("payload", "an object is required for trigger")
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise PayloadError("payload.summary", "a non-empty string is required")
    if len(summary) > MAX_SUMMARY:
        raise PayloadError("payload.summary", f"at most {MAX_SUMMARY} characters")
    source = payload.get("source")
    if not isinstance(source, str) or not source:
        raise PayloadError("payload.source", "a non-empty string is required")
    severity = payload.get("severity")
    if severity not in SEVERITIES:
        raise PayloadError("payload.severity", f"must be one of {', '.join(SEVERITIES)}, got {severity!r}"[:200])
    timestamp = None
    if payload.get("timestamp") not in (None, ""):
        raw = payload["timestamp"]
        try:
            timestamp = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            timestamp = None
        if timestamp is None or timestamp.tzinfo is None:
            raise PayloadError("payload.timestamp", f"not an ISO 8601 timestamp with offset: {str(raw)[:40]!r}")
        try:
            timestamp = check_time(timestamp, field="payload.timestamp")  # ±15:59, 1970–2100, in UTC
        except InputError as exc:
            raise PayloadError(exc.field, exc.reason) from None
    details = payload.get("custom_details") or {}
    if not isinstance(details, dict):
        details = {"details": details}  # PagerDuty accepts a string here too
    links = data.get("links") or []
    link = ""
    if isinstance(links, list) and links and isinstance(links[0], dict) and isinstance(links[0].get("href"), str):
        link = links[0]["href"][:1000]
    return PagerDutyEvent(
        action=action,
        dedup_key=dedup_key,
        routing_key=routing_key,
        summary=summary.strip(),
        source=source,
        severity=severity,
        timestamp=timestamp,
        component=_optional_str(payload, "component", "payload."),
        group=_optional_str(payload, "group", "payload."),
        event_class=_optional_str(payload, "class", "payload."),
        custom_details=details,
        link=link,
    )


def _organization_id(integration: AlertIntegration, event: PagerDutyEvent):
    if integration.organization_id is not None:
        return integration.organization_id
    slug = event.custom_details.get("organization")
    if not isinstance(slug, str) or not slug:
        return None
    return Organization.objects.filter(slug=slug).values_list("id", flat=True).first()


def pagerduty_receive(*, integration: AlertIntegration, event: PagerDutyEvent, now: dt.datetime) -> dict:
    """Apply one event; returns ``{"status": "success", "message": …, "dedup_key": key, "changed": bool}``.

    - ``trigger``: ``alert_fire`` (a repeat touches the open alert).
    - ``acknowledge``: acknowledges the open alert of the key (``by`` None).
    - ``resolve``: resolves it (``ends_at = now``).
    An acknowledge or resolve without an open alert changes nothing (as
    PagerDuty, it is still accepted). Must run in a service context and a
    transaction. Open alerts are looked up among this integration's.
    """
    fingerprint = event.fingerprint
    if event.action == "trigger":
        severity, priority = SEVERITIES[event.severity]
        labels = {"dedup_key": event.dedup_key, "source": event.source, "severity": event.severity}
        for name, value in (("component", event.component), ("group", event.group), ("class", event.event_class)):
            if value:
                labels[name] = value
        organization_id = _organization_id(integration, event)
        org_slug = event.custom_details.get("organization")
        if isinstance(org_slug, str) and org_slug:
            labels["organization"] = org_slug
        description = "\n".join(f"{k}: {v}" for k, v in sorted(event.custom_details.items()))
        _alert, created = alert_fire(
            organization_id=organization_id,
            fingerprint=fingerprint,
            source=AlertHistory.Source.PAGERDUTY,
            title=event.summary,
            labels=labels,
            annotations={"summary": event.summary},
            severity=severity,
            priority=priority,
            starts_at=event.timestamp or now,
            now=now,
            integration=integration,
            generator_url=event.link,
            description=description,
        )
        changed, message = created, "Event processed"
    else:
        open_alert = (
            AlertHistory.objects.select_for_update()
            .filter(integration=integration, fingerprint=fingerprint, status__in=AlertHistory.OPEN_STATUSES)
            .first()
        )
        if open_alert is None:
            changed, message = False, "Event processed (no open alert with this dedup_key)"
        elif event.action == "acknowledge":
            changed = alert_acknowledge(alert=open_alert, by=None, now=now)[1]
            message = "Event processed"
        else:
            changed = alert_resolve(alert=open_alert, ends_at=now, now=now)[1]
            message = "Event processed"
    AlertIntegration.objects.filter(pk=integration.pk).update(last_received_at=now)
    return {"status": "success", "message": message, "dedup_key": event.dedup_key, "changed": bool(changed)}
