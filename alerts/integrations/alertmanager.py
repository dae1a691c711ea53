"""Prometheus Alertmanager webhook, payload version "4": validation and processing.

Alertmanager posts a group of alerts::

    {"version": "4", "status": "firing", "groupKey": "{}:{alertname=\\"X\\"}", "truncatedAlerts": 0,
     "alerts": [{"status": "firing" | "resolved", "labels": {str: str}, "annotations": {str: str},
                 "startsAt": RFC 3339, "endsAt": RFC 3339 ("0001-01-01T00:00:00Z" while firing),
                 "generatorURL": str, "fingerprint": 16 hex digits}], ...}

The same group is re-sent on every ``group_interval`` change and
``repeat_interval``, so processing is idempotent. ``parse_payload`` validates
the whole payload before anything is written; ``alertmanager_receive``
writes it through ``alerts.services`` in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alerts.fingerprint import labels_fingerprint
from alerts.firing import FireCandidate, alerts_fire_many
from alerts.models import AlertHistory, AlertIntegration
from alerts.services import alert_receive_resolution
from wedsync_ops import validation
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.models import Organization
from wedsync_ops.validation import InputError

SUPPORTED_VERSION = "4"
# kube-prometheus' always-firing alert: handed to alerts.signals.watchdog_received (the heartbeats app).
WATCHDOG_ALERTNAME = "Watchdog"
ORGANIZATION_LABEL = "organization"
MAX_GENERATOR_URL = 1000
MAX_FINGERPRINT = 64

# labels.severity -> alert_severity; anything else (or none) is a warning.
SEVERITY_LABELS = {
    "critical": AlertSeverity.CRITICAL,
    "warning": AlertSeverity.WARNING,
    "info": AlertSeverity.INFO,
    "page": AlertSeverity.EMERGENCY,
    "emergency": AlertSeverity.EMERGENCY,
}
# Priority when labels.priority is absent or not an alert_priority value.
PRIORITY_BY_SEVERITY = {
    AlertSeverity.EMERGENCY: AlertPriority.CRITICAL,
    AlertSeverity.CRITICAL: AlertPriority.HIGH,
    AlertSeverity.WARNING: AlertPriority.MEDIUM,
    AlertSeverity.INFO: AlertPriority.LOW,
}


class PayloadError(InputError):
    """An invalid payload: ``field`` is a path such as ``alerts[0].startsAt``, ``reason`` says why.

    ``as_dict()`` is the API error body ``{field: [reason]}`` (DRF's validation-error shape).
    """


@dataclass(frozen=True)
class AlertmanagerAlert:
    """One validated alert of a payload. ``ends_at`` None while firing (Go's zero time)."""

    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    generator_url: str
    fingerprint: str

    @property
    def severity(self) -> str:
        """From ``labels.severity``: critical, warning, info; page/emergency become emergency; else warning."""
        return SEVERITY_LABELS.get(self.labels.get("severity", "").strip().lower(), AlertSeverity.WARNING)

    @property
    def priority(self) -> str:
        """``labels.priority`` when it is an ``alert_priority`` value, else derived from the severity."""
        label = self.labels.get("priority", "").strip().lower()
        if label in AlertPriority.values:
            return label
        return PRIORITY_BY_SEVERITY[self.severity]

    @property
    def title(self) -> str:
        """``annotations.summary``, else ``labels.alertname``, else ``alert <fingerprint>``."""
        return (
            self.annotations.get("summary", "").strip()
            or self.labels.get("alertname", "").strip()
            or f"alert {self.fingerprint}"
        )


@dataclass(frozen=True)
class AlertmanagerPayload:
    """A validated webhook payload: its ``groupKey`` and its alerts in order."""

    group_key: str
    alerts: tuple[AlertmanagerAlert, ...]
    truncated_alerts: int = 0


def parse_rfc3339(value, *, field: str, allow_zero: bool = False) -> dt.datetime | None:
    """``wedsync_ops.validation.parse_rfc3339`` (offset within ±15:59, years 1970–2100, UTC), raising PayloadError.

    Go's zero time (year 1) gives None when ``allow_zero``.
    """
    try:
        return validation.parse_rfc3339(value, field=field, allow_zero=allow_zero)
    except InputError as exc:
        raise PayloadError(exc.field, exc.reason) from None


def _string_map(value, *, field: str, required: bool) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(field, f"must be an object of strings, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{field}.{key}", f"must be a string, got {type(item).__name__}")
    return dict(value)


def _parse_alert(raw, index: int) -> AlertmanagerAlert:
    where = f"alerts[{index}]"
    if not isinstance(raw, dict):
        raise PayloadError(where, f"must be an object, got {type(raw).__name__}")
    status = raw.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}.status", f"must be 'firing' or 'resolved', got {status!r}"[:200])
    if "labels" not in raw:
        raise PayloadError(f"{where}.labels", "this field is required")
    labels = _string_map(raw["labels"], field=f"{where}.labels", required=True)
    annotations = _string_map(raw.get("annotations"), field=f"{where}.annotations", required=False)
    if "startsAt" not in raw:
        raise PayloadError(f"{where}.startsAt", "this field is required")
    starts_at = parse_rfc3339(raw["startsAt"], field=f"{where}.startsAt")
    ends_at = None
    if raw.get("endsAt") not in (None, ""):
        ends_at = parse_rfc3339(raw["endsAt"], field=f"{where}.endsAt", allow_zero=True)
    generator_url = raw.get("generatorURL") or ""
    if not isinstance(generator_url, str):
        raise PayloadError(f"{where}.generatorURL", f"must be a string, got {type(generator_url).__name__}")
    if len(generator_url) > MAX_GENERATOR_URL:
        generator_url = ""  # a cut URL is a broken link; the alert itself matters more
    # Grafana's own links (silenceURL, dashboardURL, panelURL) are kept as annotations of the same names,
    # so the alert's page links to them; anything that is not an http(s) URL of a sane length is dropped.
    for key in ("silenceURL", "dashboardURL", "panelURL"):
        link = raw.get(key)
        if isinstance(link, str) and link.startswith(("https://", "http://")) and len(link) <= MAX_GENERATOR_URL:
            annotations.setdefault(key, link)
    fingerprint = raw.get("fingerprint") or ""
    if not isinstance(fingerprint, str) or len(fingerprint) > MAX_FINGERPRINT:
        raise PayloadError(f"{where}.fingerprint", f"must be a string of at most {MAX_FINGERPRINT} characters")
    return AlertmanagerAlert(
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        generator_url=generator_url,
        fingerprint=fingerprint.lower() or labels_fingerprint(labels),
    )


def load_json_object(body: bytes) -> dict:
    """Decode a UTF-8 JSON object; raises PayloadError (field ``body``, or the path of a refused value) otherwise.

    Decoded by ``wedsync_ops.validation.json_loads``: at most 64 levels deep, no NaN, no NUL or lone
    surrogate in any string.
    """
    try:
        data = validation.json_loads(body)
    except InputError as exc:
        raise PayloadError(exc.field, exc.reason) from None
    if not isinstance(data, dict):
        raise PayloadError("body", f"must be a JSON object, got {type(data).__name__}")
    return data


def parse_payload(
    body: bytes, *, version: str = SUPPORTED_VERSION, sender: str = "Alertmanager webhook v4"
) -> AlertmanagerPayload:
    """Validate a whole webhook body (UTF-8 JSON) and return it parsed.

    Checks: a JSON object; ``version`` == "4"; ``alerts`` a list of objects,
    each with ``status`` firing|resolved, ``labels`` an object of strings,
    ``annotations`` (optional) an object of strings, ``startsAt`` RFC 3339,
    ``endsAt`` (optional) RFC 3339, ``generatorURL``/``fingerprint``
    (optional) strings; ``groupKey`` (optional) a string. A missing
    fingerprint is computed from the labels. A ``generatorURL`` longer than
    1000 characters is dropped. Raises PayloadError at the first problem.
    ``version``/``sender``: Grafana's unified alerting posts the same shape
    with ``"version": "1"`` (``alerts.integrations.grafana``).
    """
    data = load_json_object(body)
    got_version = data.get("version")
    if got_version != version:
        got = repr(got_version)[:80]
        raise PayloadError("version", f'must be "{version}" ({sender}), got {got}')
    if "alerts" not in data:
        raise PayloadError("alerts", "this field is required")
    raw_alerts = data["alerts"]
    if not isinstance(raw_alerts, list):
        raise PayloadError("alerts", f"must be a list, got {type(raw_alerts).__name__}")
    group_key = data.get("groupKey") or ""
    if not isinstance(group_key, str):
        raise PayloadError("groupKey", f"must be a string, got {type(group_key).__name__}")
    truncated = data.get("truncatedAlerts") or 0
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("truncatedAlerts", "must be a non-negative integer")
    alerts = tuple(_parse_alert(raw, index) for index, raw in enumerate(raw_alerts))
    return AlertmanagerPayload(group_key=group_key, alerts=alerts, truncated_alerts=truncated)


def _organizations_by_slug(slugs: set[str]) -> dict[str, object]:
    if not slugs:
        return {}
    return dict(Organization.objects.filter(slug__in=slugs).values_list("slug", "id"))


def _watchdog_taken(integration: AlertIntegration, alert: AlertmanagerAlert, now: dt.datetime) -> bool:
    """Offer a ``Watchdog`` alert to ``alerts.signals.watchdog_received``; True when a receiver took it."""
    from alerts.signals import watchdog_received

    responses = watchdog_received.send(
        sender=AlertIntegration, integration=integration, status=alert.status, labels=alert.labels, now=now
    )
    return any(taken is True for _receiver, taken in responses)


def alertmanager_receive(
    *,
    integration: AlertIntegration,
    payload: AlertmanagerPayload,
    now: dt.datetime,
    source: str = AlertHistory.Source.ALERTMANAGER,
) -> dict:
    """Store a validated payload; returns ``{"received": n, "created": x, "resolved": y}``.

    Must run in a transaction with a service context (one machine may post
    alerts of several organizations). The organization is the
    integration's; for a platform-wide integration it is the one named by
    the ``organization`` label's slug, and an unknown or missing slug keeps
    the alert unassigned (organization NULL, staff only), never dropped.

    - ``firing``: ``alerts.services.alert_fire``'s meaning, all of the payload's firing alerts at
      once (``alerts.firing.alerts_fire_many``: touches an open alert; a firing redelivered after its
      resolution changes nothing; the group's alerts make one incident).
    - ``resolved``: resolves the open alert of that fingerprint when the
      resolution covers its open period (``endsAt`` at or after the open
      alert's start, whatever the two ``startsAt``: Alertmanager moves
      ``startsAt`` earlier when it merges a re-sent alert); otherwise keeps the
      resolution as a ``resolved`` row unless an alert with the same
      (organization, fingerprint, startsAt) exists already
      (``alerts.services.alert_receive_resolution``).

    - ``Watchdog`` (``labels.alertname``): offered to ``alerts.signals.watchdog_received``
      (the heartbeats app's dead man's switch) and, when taken, not stored as an alert.

    ``created`` counts new alert rows (firing or kept resolutions),
    ``resolved`` the open alerts this payload resolved; a redelivery gives
    0 and 0. Sets ``integration.last_received_at = now``. ``source``: the
    ``AlertHistory.Source`` recorded (Grafana's payload has the same alerts).
    """
    if integration.organization_id is None:
        slugs = {a.labels[ORGANIZATION_LABEL] for a in payload.alerts if a.labels.get(ORGANIZATION_LABEL)}
        org_ids = _organizations_by_slug(slugs)
    created = resolved = 0
    firing, resolutions = [], []
    for alert in payload.alerts:
        if alert.labels.get("alertname") == WATCHDOG_ALERTNAME and _watchdog_taken(integration, alert, now):
            continue
        if integration.organization_id is not None:
            organization_id = integration.organization_id
        else:
            organization_id = org_ids.get(alert.labels.get(ORGANIZATION_LABEL, ""))
        common = dict(
            organization_id=organization_id,
            fingerprint=alert.fingerprint,
            source=source,
            title=alert.title,
            labels=alert.labels,
            annotations=alert.annotations,
            severity=alert.severity,
            priority=alert.priority,
            starts_at=alert.starts_at,
            integration=integration,
            group_key=payload.group_key,
            generator_url=alert.generator_url,
            description=alert.annotations.get("description", ""),
        )
        (firing if alert.status == "firing" else resolutions).append((alert, common))
    # The group's firing alerts at once (one incident for the group), then its resolutions: a resolution
    # never ends an incident that a firing alert of the same payload is about to join.
    fired = alerts_fire_many([FireCandidate(**common) for _alert, common in firing], now=now)
    created += sum(c.created for c in fired)
    for alert, common in resolutions:
        _row, outcome = alert_receive_resolution(ends_at=alert.ends_at, now=now, **common)
        resolved += outcome == "resolved"
        created += outcome == "kept"
    AlertIntegration.objects.filter(pk=integration.pk).update(last_received_at=now)
    integration.last_received_at = now
    return {"received": len(payload.alerts), "created": created, "resolved": resolved}
