"""Error correlation (WS-259 ``error_correlations``, issue 18 §3): which patterns are one problem, where it began.

The rules (SQL ``correlate_error_patterns``, ``apm/sql/functions/correlate_error_patterns.v1.sql``),
over error patterns of *different services* of one organization:

1. ``shared_trace`` — reports of both patterns carry the same trace or request id (tags
   ``trace_id``, ``trace.id``, ``traceId``, ``request_id``, ``x-request-id``): one request failed in
   both services. Source: W3C Trace Context (https://www.w3.org/TR/trace-context/, "trace-id …
   identifies the whole trace … propagated through the system"), the id Sentry uses to link the
   issues of one distributed trace ("trace-connected issues"). Score ``0.6 + 0.4 × shared ids /
   the fewer traced reports of the two`` (0.6 .. 1.0).
2. ``time_window`` — both patterns started (first seen, or regressed) within ``window`` (default
   2 minutes) of each other. Source: the time-based grouping of alerting tools — Alertmanager's
   ``group_wait`` groups what starts together (prometheus.io/docs/alerting/latest/configuration/),
   PagerDuty's time-based alert grouping (support.pagerduty.com, "Time-Based Alert Grouping").
   Weaker evidence: score ``0.5 × (1 − gap / window)`` (0 .. 0.5).

The likely origin (the first cause) is the pattern whose error came first: in the shared traces
(the service that failed first in the request, usually the callee the others waited on), or by
start time. A pair keeps its strongest evidence. Beat runs ``apm.tasks.correlate_errors`` every
minute over the last 10 minutes.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q

from .models import ErrorCorrelation, ErrorPattern

CORRELATION_WINDOW = dt.timedelta(minutes=2)
CORRELATION_LOOKBACK = dt.timedelta(minutes=10)
# An incident's own patterns, when it has none linked: those of its organization that started this long
# before its detection (or up to the window after).
INCIDENT_LOOKBACK = dt.timedelta(minutes=15)


def error_correlations_run(
    *, now: dt.datetime, window: dt.timedelta = CORRELATION_WINDOW, lookback: dt.timedelta = CORRELATION_LOOKBACK
) -> int:
    """Correlate the patterns active in ``(now - lookback, now]``; returns pairs written or strengthened.

    Staff or service context (SQL raises ``insufficient_privilege`` otherwise). ValueError: naive ``now``
    or a window not above zero.
    """
    if now.tzinfo is None:
        raise ValueError("error_correlations_run needs an aware datetime")
    if window <= dt.timedelta(0):
        raise ValueError("window must be positive")
    with connection.cursor() as cur:
        cur.execute("SELECT correlate_error_patterns(%s, %s, %s)", [now, window, lookback])
        return cur.fetchone()[0]


def incident_correlated_errors(incident, *, limit: int = 10) -> dict:
    """The incident page's "correlated errors" and first cause, in the caller's context.

    The incident's patterns: those linked to it (``error_patterns.incident_id``), else its organization's
    patterns that started from ``INCIDENT_LOOKBACK`` before its detection to ``CORRELATION_WINDOW`` after.
    Returns ``{"patterns": [ErrorPattern], "correlations": [{"origin": ErrorPattern (first to fail),
    "pattern": ErrorPattern (the one that followed), "rule", "score", "gap_seconds" (s), "shared_traces"}],
    "first_cause": ErrorPattern | None}``, strongest first:
    the first cause is the origin of the strongest correlation, else the earliest of the patterns.
    """
    if incident.organization_id is None:
        return {"patterns": [], "correlations": [], "first_cause": None}
    own = list(ErrorPattern.objects.filter(organization_id=incident.organization_id, incident_id=incident.pk))
    if not own:
        own = list(
            ErrorPattern.objects.filter(
                organization_id=incident.organization_id,
                first_seen__gte=incident.detected_at - INCIDENT_LOOKBACK,
                first_seen__lte=incident.detected_at + CORRELATION_WINDOW,
            ).order_by("first_seen")[:limit]
        )
    ids = {p.pk for p in own}
    rows = list(
        ErrorCorrelation.objects.filter(organization_id=incident.organization_id)
        .filter(Q(pattern_id__in=ids) | Q(related_pattern_id__in=ids))
        .order_by("-score", "detected_at")[:limit]
    )
    wanted = {r.pattern_id for r in rows} | {r.related_pattern_id for r in rows} | {r.origin_pattern_id for r in rows}
    others = {p.pk: p for p in ErrorPattern.objects.filter(pk__in=wanted)}
    correlations = []
    for r in rows:
        effect_id = r.related_pattern_id if r.origin_pattern_id == r.pattern_id else r.pattern_id
        correlations.append(
            {
                "origin": others.get(r.origin_pattern_id),
                "pattern": others.get(effect_id),
                "rule": r.rule,
                "score": r.score,
                "gap_seconds": r.gap_seconds,
                "shared_traces": r.shared_traces,
            }
        )
    if rows:
        first_cause = others.get(rows[0].origin_pattern_id)
    else:
        first_cause = min(own, key=lambda p: (p.first_seen, p.pk)) if own else None
    return {"patterns": own, "correlations": correlations, "first_cause": first_cause}
