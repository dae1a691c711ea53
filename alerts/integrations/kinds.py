"""One entry per inbound integration kind: how its payload is parsed, counted, stored and answered when parked.

The endpoints (``alerts.integrations.views``) and the backlog drain (``alerts.integrations.backlog``)
both read this registry, so a parked payload is ingested by exactly the code an
inline one is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alerts.integrations.alertmanager import alertmanager_receive, parse_payload
from alerts.integrations.grafana import grafana_receive, parse_grafana_payload
from alerts.integrations.pagerduty import pagerduty_receive, parse_pagerduty_event
from alerts.integrations.webhook import mapping_for, parse_webhook_payload, webhook_receive


@dataclass(frozen=True)
class IntegrationKind:
    """``parse(body, integration)`` (raises ``PayloadError``), ``count(parsed)`` (alerts in it),
    ``receive(integration, parsed, now) -> dict`` (in a service-context transaction), and
    ``parked(parsed) -> dict`` (the 202 body of a parked payload)."""

    parse: Callable
    count: Callable
    receive: Callable
    parked: Callable


def _alerts_parked(parsed) -> dict:
    n = len(parsed.alerts) if hasattr(parsed, "alerts") else len(parsed)
    return {"received": n, "created": 0, "resolved": 0, "queued": n}


KINDS: dict[str, IntegrationKind] = {
    "alertmanager": IntegrationKind(
        parse=lambda body, integration: parse_payload(body),
        count=lambda parsed: len(parsed.alerts),
        receive=lambda integration, parsed, now: alertmanager_receive(integration=integration, payload=parsed, now=now),
        parked=_alerts_parked,
    ),
    "grafana": IntegrationKind(
        parse=lambda body, integration: parse_grafana_payload(body),
        count=lambda parsed: len(parsed.alerts),
        receive=lambda integration, parsed, now: grafana_receive(integration=integration, payload=parsed, now=now),
        parked=_alerts_parked,
    ),
    "pagerduty": IntegrationKind(
        parse=lambda body, integration: parse_pagerduty_event(body),
        count=lambda parsed: 1,
        receive=lambda integration, parsed, now: pagerduty_receive(integration=integration, event=parsed, now=now),
        parked=lambda parsed: {
            "status": "success",
            "message": "Event queued (integration over its rate limit)",
            "dedup_key": parsed.dedup_key,
            "changed": False,
        },
    ),
    "webhook": IntegrationKind(
        parse=lambda body, integration: parse_webhook_payload(body, mapping=mapping_for(integration)),
        count=len,
        receive=lambda integration, parsed, now: webhook_receive(integration=integration, alerts=parsed, now=now),
        parked=_alerts_parked,
    ),
}
