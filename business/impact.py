"""The business impact of an incident: its organization's business events now beside their normal.

The rule (SQL ``business_event_impact``, business/sql/functions/business_event_impact.v1.sql): the window
is the last ``IMPACT_WINDOW`` (60 minutes) of the incident while it is open, ending now (a resolved
incident: the hour before it was resolved); the baseline is the same local window of each of the previous
four weeks, averaged over the weeks in which the organization recorded any business event then (the
seasonal "same hour last week" comparison, e.g. Prometheus' ``offset 1w``, over four weeks to damp one odd
week). What is shown:

- failed payments above normal: ``payments failing: 14 (£2,310) above normal`` when at least
  ``MIN_EXCESS`` (3) more than the baseline and at least 1.5 × it; the money is the failed payments'
  revenue above the baseline's, in the currency with most of it;
- the other event types (all good news when they happen) when at least ``DROP_PERCENT`` (25 %) below a
  baseline of at least ``MIN_BASELINE`` (5) events: ``RSVP submissions −60%``.

Read-only (selectors): the incidents app and the pages call these; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass

from babel.numbers import format_currency
from django.db import connection

from .models import EventType

IMPACT_WINDOW = dt.timedelta(minutes=60)
BASELINE_WEEKS = 4
MIN_EXCESS = 3
MIN_BASELINE = 5.0
DROP_PERCENT = 25.0
BAD_WHEN_RISING = frozenset({EventType.PAYMENT_FAILED})

LABELS = {
    EventType.BOOKING_CREATED: "bookings",
    EventType.PAYMENT_SUCCEEDED: "successful payments",
    EventType.PAYMENT_FAILED: "payments failing",
    EventType.RSVP_SUBMITTED: "RSVP submissions",
    EventType.GALLERY_VIEWED: "gallery views",
    EventType.FORM_SUBMITTED: "form submissions",
}


def event_label(event_type: str) -> str:
    """The words for an event type on pages and in alerts (``rsvp_submitted`` → ``RSVP submissions``)."""
    return LABELS.get(event_type, event_type.replace("_", " "))


def money(amount, currency: str) -> str:
    """``amount`` of ``currency`` (ISO 4217) in whole units with its CLDR symbol, en-GB: ``£2,310``, ``€85``,
    ``US$1,200`` (Babel's ``format_currency``)."""
    return format_currency(
        decimal.Decimal(amount).quantize(decimal.Decimal(1)),
        currency,
        format="¤#,##0",
        locale="en_GB",
        currency_digits=False,
    )


@dataclass(frozen=True)
class ImpactLine:
    """One event type's difference from normal in a window.

    ``current``: events in the window; ``baseline``: the normal (events, mean of the baseline weeks);
    ``change_percent``: 100 × (current − baseline) / baseline; ``excess_revenue``/``currency``: money above
    normal (failed payments), or None; ``text``: what the pages show; ``bad``: worse than normal.
    """

    event_type: str
    current: int
    baseline: float
    change_percent: float | None
    excess_revenue: decimal.Decimal | None
    currency: str
    text: str
    bad: bool


@dataclass(frozen=True)
class Impact:
    """The business impact of one incident: the window (``start``..``end``, aware UTC), the number of
    baseline weeks with data (0: no baseline, nothing to compare), and the lines beyond normal (worst first)."""

    start: dt.datetime
    end: dt.datetime
    baseline_weeks: int
    lines: tuple[ImpactLine, ...]

    @property
    def summary(self) -> str:
        """The lines' texts joined by `` · `` ('' when business runs as normal)."""
        return " · ".join(line.text for line in self.lines)


def _lines(rows: list[tuple]) -> tuple[int, tuple[ImpactLine, ...]]:
    """Impact lines from ``business_event_impact`` rows ``(event_type, currency, current, baseline,
    current_revenue, baseline_revenue, weeks)`` of one window."""
    weeks = max((r[6] or 0 for r in rows), default=0)
    if not weeks:
        return 0, ()
    by_type: dict[str, dict] = {}
    for event_type, currency, current, baseline, cur_rev, base_rev, _weeks in rows:
        t = by_type.setdefault(event_type, {"current": 0, "baseline": 0.0, "money": {}})
        t["current"] += current
        t["baseline"] += baseline or 0.0
        if currency:
            t["money"][currency] = (cur_rev or 0) - (base_rev or 0)
    lines = []
    for event_type, t in by_type.items():
        current, baseline = t["current"], t["baseline"]
        change = 100.0 * (current - baseline) / baseline if baseline else None
        label = event_label(event_type)
        if event_type in BAD_WHEN_RISING:
            excess = current - baseline
            if excess >= MIN_EXCESS and current >= 1.5 * baseline:
                currency, extra = max(t["money"].items(), key=lambda kv: kv[1], default=("", 0))
                extra = decimal.Decimal(extra).quantize(decimal.Decimal("0.01")) if extra and extra > 0 else None
                amount = f" ({money(extra, currency)})" if extra else ""
                lines.append(
                    ImpactLine(
                        event_type,
                        current,
                        baseline,
                        change,
                        extra,
                        currency if extra else "",
                        f"{label}: {round(excess)}{amount} above normal",
                        True,
                    )
                )
        elif baseline >= MIN_BASELINE and change is not None and change <= -DROP_PERCENT:
            lines.append(
                ImpactLine(event_type, current, baseline, change, None, "", f"{label} \u2212{abs(change):.0f}%", True)
            )
    lines.sort(key=lambda line: (line.event_type not in BAD_WHEN_RISING, line.change_percent or 0))
    return weeks, tuple(lines)


def impact_window(
    *, detected_at: dt.datetime, resolved_at: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The window an incident's impact is measured over: the ``IMPACT_WINDOW`` before ``now`` while it is
    open (before ``resolved_at`` once resolved), never starting before the hour before ``detected_at``."""
    end = min(resolved_at or now, now)
    return max(end - IMPACT_WINDOW, detected_at - IMPACT_WINDOW), end


def organization_impact(*, organization_id: uuid.UUID, start: dt.datetime, end: dt.datetime) -> Impact:
    """The organization's business events in ``[start, end)`` against the baseline (one query; RLS applies)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT event_type, currency, current_count, baseline_count, current_revenue, baseline_revenue,"
            " baseline_weeks FROM business_event_impact(%s, %s, %s, %s)",
            [organization_id, start, end, BASELINE_WEEKS],
        )
        weeks, lines = _lines(cur.fetchall())
    return Impact(start, end, weeks, lines)


def incidents_business_impact(*, incidents, now: dt.datetime) -> dict:
    """``{incident id: Impact}`` for incidents of an organization (platform-wide ones are left out), in one
    query (a LATERAL ``business_event_impact`` per incident). ``incidents``: objects with ``id``,
    ``organization_id``, ``detected_at`` and ``resolved_at``."""
    todo = [
        (i.id, i.organization_id, *impact_window(detected_at=i.detected_at, resolved_at=i.resolved_at, now=now))
        for i in incidents
        if i.organization_id is not None
    ]
    if not todo:
        return {}
    ids, orgs, starts, ends = (list(col) for col in zip(*todo, strict=True))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT t.id::text, b.event_type, b.currency, b.current_count, b.baseline_count, b.current_revenue,"
            " b.baseline_revenue, b.baseline_weeks"
            " FROM unnest(%s::text[], %s::uuid[], %s::timestamptz[], %s::timestamptz[]) AS t(id, org, lo, hi)"
            " CROSS JOIN LATERAL business_event_impact(t.org, t.lo, t.hi, %s) b",
            [[str(i) for i in ids], orgs, starts, ends, BASELINE_WEEKS],
        )
        rows: dict[str, list] = {}
        for row in cur.fetchall():
            rows.setdefault(row[0], []).append(row[1:])
    result = {}
    for pk, _org, start, end in todo:
        weeks, lines = _lines(rows.get(str(pk), []))
        result[pk] = Impact(start, end, weeks, lines)
    return result
