"""Grafana unified alerting webhook (``"version": "1"``).

Grafana posts Alertmanager's alert shape (``status``, ``labels``,
``annotations``, ``startsAt``, ``endsAt``, ``generatorURL``, ``fingerprint``)
plus its own fields (``silenceURL``, ``dashboardURL``, ``panelURL``: kept as
annotations of those names, the alert page's links; ``values``, top-level
``title``, ``state``, ``message``, ``orgId``: accepted and ignored). Identity and lifecycle are Alertmanager's
(``alertmanager_receive`` with source ``grafana``): Grafana, like
Alertmanager, re-sends a group, so processing is idempotent.
"""

from __future__ import annotations

import datetime as dt

from alerts.integrations.alertmanager import AlertmanagerPayload, alertmanager_receive, parse_payload
from alerts.models import AlertHistory, AlertIntegration

GRAFANA_VERSION = "1"


def parse_grafana_payload(body: bytes) -> AlertmanagerPayload:
    """Validate a Grafana webhook body; raises ``PayloadError`` naming the field (e.g. ``alerts[1].startsAt``)."""
    return parse_payload(body, version=GRAFANA_VERSION, sender="Grafana unified alerting webhook")


def grafana_receive(*, integration: AlertIntegration, payload: AlertmanagerPayload, now: dt.datetime) -> dict:
    """Store a validated Grafana payload; returns ``{"received", "created", "resolved"}`` as Alertmanager's."""
    return alertmanager_receive(integration=integration, payload=payload, now=now, source=AlertHistory.Source.GRAFANA)
