"""Generic JSON webhook with a configurable field mapping (``AlertIntegration.config``).

The mapping says where each alert field is in the sender's JSON, as dotted
paths (``"data.alert.title"``; a list index is a number: ``"tags.0"``)::

    {"alerts": "alerts",          # path of a list of alerts; "" = the body is one alert
     "title": "title",            # required in each alert
     "status": "status",          # optional; values in resolved_values resolve, anything else fires
     "resolved_values": ["resolved", "ok", "closed"],
     "fingerprint": "id",         # optional; else the fingerprint of the labels
     "severity": "severity",      # optional; mapped through severity_map, default warning
     "severity_map": {"critical": "critical", "error": "critical", "warning": "warning", "info": "info"},
     "labels": "labels",          # optional; an object of scalars (turned into strings)
     "description": "description",
     "starts_at": "startsAt",     # optional; ISO 8601 with offset, or Unix seconds; default now
     "organization": "organization",  # optional; a slug (platform-wide integrations only)
     "url": "url"}

Missing keys of the config take ``DEFAULT_MAPPING``'s. Every alert is
validated before anything is written; errors name the field with the path
in the sender's JSON (``alerts[2].title``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alerts.fingerprint import labels_fingerprint
from alerts.integrations.alertmanager import PRIORITY_BY_SEVERITY, PayloadError, load_json_object
from alerts.models import AlertHistory, AlertIntegration
from alerts.services import alert_fire, alert_resolve
from wedsync_ops.choices import AlertSeverity
from wedsync_ops.tenancy.models import Organization
from wedsync_ops.validation import InputError, check_time

DEFAULT_MAPPING = {
    "alerts": "alerts",
    "title": "title",
    "status": "status",
    "resolved_values": ["resolved", "ok", "closed"],
    "fingerprint": "id",
    "severity": "severity",
    "severity_map": {
        "critical": "critical",
        "error": "critical",
        "emergency": "emergency",
        "warning": "warning",
        "info": "info",
    },
    "labels": "labels",
    "description": "description",
    "starts_at": "startsAt",
    "organization": "organization",
    "url": "url",
}
_MISSING = object()


@dataclass(frozen=True)
class WebhookAlert:
    title: str
    resolved: bool
    fingerprint: str
    severity: str
    labels: dict
    description: str
    starts_at: dt.datetime | None
    organization_slug: str
    url: str


def mapping_for(integration: AlertIntegration) -> dict:
    """The integration's mapping over ``DEFAULT_MAPPING``."""
    mapping = dict(DEFAULT_MAPPING)
    mapping.update({k: v for k, v in (integration.config or {}).items() if k in DEFAULT_MAPPING})
    return mapping


def _get(data, path: str):
    if not path:
        return data
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _scalar_text(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise PayloadError(where, f"must be a string or number, got {type(value).__name__}")


def _parse_time(value, where: str) -> dt.datetime:
    """Unix seconds or ISO 8601 with an offset, in UTC; offset within ±15:59, years 1970–2100 (``check_time``)."""
    parsed = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            parsed = dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise PayloadError(where, "not a valid Unix time in seconds") from None
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise PayloadError(where, "must be an ISO 8601 timestamp with offset or Unix seconds")
    try:
        return check_time(parsed, field=where)
    except InputError as exc:
        raise PayloadError(exc.field, exc.reason) from None


def parse_webhook_payload(body: bytes, *, mapping: dict) -> list[WebhookAlert]:
    """Validate a body against ``mapping``; returns the alerts or raises ``PayloadError`` naming the field."""
    data = load_json_object(body)
    if mapping["alerts"]:
        items = _get(data, mapping["alerts"])
        if items is _MISSING:
            raise PayloadError(mapping["alerts"], "this field is required (the list of alerts)")
        if not isinstance(items, list):
            raise PayloadError(mapping["alerts"], f"must be a list, got {type(items).__name__}")
        prefix = mapping["alerts"]
    else:
        items, prefix = [data], ""
    resolved_values = {str(v).lower() for v in mapping["resolved_values"]}
    alerts = []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]." if prefix else ""
        if not isinstance(item, dict):
            raise PayloadError(f"{prefix}[{index}]", "must be an object")
        title = _get(item, mapping["title"])
        if title is _MISSING or not isinstance(title, str) or not title.strip():
            raise PayloadError(f"{where}{mapping['title']}", "a non-empty string is required (the title)")
        labels_raw = _get(item, mapping["labels"]) if mapping["labels"] else _MISSING
        labels = {}
        if labels_raw not in (_MISSING, None):
            if not isinstance(labels_raw, dict):
                raise PayloadError(f"{where}{mapping['labels']}", "must be an object")
            labels = {str(k): _scalar_text(v, f"{where}{mapping['labels']}.{k}") for k, v in labels_raw.items()}
        status = _get(item, mapping["status"]) if mapping["status"] else _MISSING
        resolved = status is not _MISSING and str(status).lower() in resolved_values
        severity_raw = _get(item, mapping["severity"]) if mapping["severity"] else _MISSING
        severity = AlertSeverity.WARNING
        if severity_raw not in (_MISSING, None):
            severity = mapping["severity_map"].get(str(severity_raw).lower(), AlertSeverity.WARNING)
            if severity not in AlertSeverity.values:
                severity = AlertSeverity.WARNING
        fp_raw = _get(item, mapping["fingerprint"]) if mapping["fingerprint"] else _MISSING
        if fp_raw in (_MISSING, None, ""):
            fingerprint = labels_fingerprint(labels or {"title": title.strip()})
        else:
            fingerprint = _scalar_text(fp_raw, f"{where}{mapping['fingerprint']}")[:64]
        starts_raw = _get(item, mapping["starts_at"]) if mapping["starts_at"] else _MISSING
        starts_at = None
        if starts_raw not in (_MISSING, None):
            starts_at = _parse_time(starts_raw, f"{where}{mapping['starts_at']}")
        description = _get(item, mapping["description"]) if mapping["description"] else _MISSING
        org = _get(item, mapping["organization"]) if mapping["organization"] else _MISSING
        url = _get(item, mapping["url"]) if mapping["url"] else _MISSING
        alerts.append(
            WebhookAlert(
                title=title.strip(),
                resolved=resolved,
                fingerprint=fingerprint,
                severity=severity,
                labels=labels,
                description=description if isinstance(description, str) else "",
                starts_at=starts_at,
                organization_slug=org if isinstance(org, str) else labels.get("organization", ""),
                url=url[:1000] if isinstance(url, str) else "",
            )
        )
    return alerts


def webhook_receive(*, integration: AlertIntegration, alerts: list[WebhookAlert], now: dt.datetime) -> dict:
    """Store validated alerts; returns ``{"received": n, "created": x, "resolved": y}``.

    Firing: ``alert_fire`` (a repeat touches the open alert). Resolved:
    resolves the open alert with that fingerprint (none open: nothing).
    Organization: the integration's, else the alert's ``organization`` slug
    (unknown: unassigned). Must run in a service context and a transaction.
    """
    created = resolved = 0
    slugs = {a.organization_slug for a in alerts if a.organization_slug}
    org_ids = dict(Organization.objects.filter(slug__in=slugs).values_list("slug", "id")) if slugs else {}
    for alert in alerts:
        organization_id = integration.organization_id or org_ids.get(alert.organization_slug)
        if alert.resolved:
            open_alert = (
                AlertHistory.objects.select_for_update()
                .filter(
                    organization_id=organization_id,
                    fingerprint=alert.fingerprint,
                    status__in=AlertHistory.OPEN_STATUSES,
                )
                .first()
            )
            if open_alert is not None:
                resolved += alert_resolve(alert=open_alert, ends_at=now, now=now)[1]
            continue
        _row, was_created = alert_fire(
            organization_id=organization_id,
            fingerprint=alert.fingerprint,
            source=AlertHistory.Source.WEBHOOK,
            title=alert.title,
            labels=alert.labels,
            annotations={"summary": alert.title},
            severity=alert.severity,
            priority=PRIORITY_BY_SEVERITY[alert.severity],
            starts_at=alert.starts_at or now,
            now=now,
            integration=integration,
            generator_url=alert.url,
            description=alert.description,
        )
        created += was_created
    AlertIntegration.objects.filter(pk=integration.pk).update(last_received_at=now)
    return {"received": len(alerts), "created": created, "resolved": resolved}
