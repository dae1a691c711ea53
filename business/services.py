"""Business state changes: event ingest (validate the whole batch, then one COPY), the daily computations,
funnel and segment definitions, and business alert rule evaluation. The only writer of the business tables."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from wedsync_ops.db import copy_through_stage
from wedsync_ops.validation import InputError, check_time, parse_rfc3339, text_problem

from .models import BusinessAlertRule, ConversionFunnel, EventType, UserSegment

# Events older than this are refused (the same 90-day window as metrics: DESIGN.md's platform retention).
EVENTS_MAX_AGE = dt.timedelta(days=90)
# Raw events are kept this long (a year and a month: last year's same week stays comparable); the daily
# tables computed from them are kept.
EVENTS_RETENTION = dt.timedelta(days=400)
CLEANUP_BATCH = 50_000
# Clock skew a sender may have, in the future.
EVENTS_MAX_FUTURE = dt.timedelta(minutes=5)
ACTOR_ID_MAX_LENGTH = 100
# properties: a JSON object of at most this many bytes once encoded.
PROPERTIES_MAX_BYTES = 8192
# revenue_impact: numeric(18, 4): at most 4 decimals (ISO 4217's largest minor unit), |x| < 10^14.
REVENUE_MAX = decimal.Decimal(10) ** 14
REVENUE_DECIMALS = 4
# Funnels have 2..8 steps (conversion_funnels.steps is varchar(32)[8]).
FUNNEL_MIN_STEPS, FUNNEL_MAX_STEPS = 2, 8
# Segment rules look at most this many days away from the day counted.
SEGMENT_MAX_DAYS = 730
# The daily computation rewrites this many recent local days (today included) at every pass.
RECOMPUTE_DAYS = 3

_EVENT_FIELDS = frozenset({"event_type", "timestamp", "actor_id", "properties", "revenue_impact", "currency"})
_TENANT_FIELDS = frozenset({"organization", "organization_id", "org", "org_id"})
_EPOCH_MS_HINT = 1e11  # an epoch number above this is surely milliseconds (year 5138 in seconds)
_SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def _query(name: str) -> str:
    return (_SQL_DIR / "queries" / f"{name}.sql").read_text()


@cache
def iso_4217_codes() -> frozenset[str]:
    """The ISO 4217 currency codes CLDR knows (Babel's ``list_currencies()``: about 300, upper case)."""
    return frozenset(list_currencies())


class BusinessEventsValidationError(ValidationError):
    """A business event batch was refused; nothing was stored.

    ``detail`` (str) says what is wrong with the batch as a whole, or ``errors`` lists every bad field
    of every bad event in order: ``[{"index": 3, "field": "currency", "reason": "…"}]`` (``index``: the
    event's 0-based position in ``events``). The same error body as ``POST /api/v1/metrics/``.
    """

    def __init__(self, *, detail: str | None = None, errors: list[dict] | None = None):
        self.detail = detail
        self.errors = errors or []
        super().__init__(detail or f"{len(self.errors)} invalid field(s) in the event batch")

    def as_dict(self, *, max_errors: int = 100) -> dict:
        """``{"detail": str}`` or ``{"errors": [...at most max_errors], "error_count": n}``."""
        if self.detail is not None:
            return {"detail": self.detail}
        return {"errors": self.errors[:max_errors], "error_count": len(self.errors)}


@dataclass(frozen=True)
class EventRow:
    """One validated event, in the order of the stage's columns (``_STAGE_COLUMNS``)."""

    organization_id: uuid.UUID
    event_type: str
    actor_id: str
    properties: str  # JSON object text
    revenue_impact: decimal.Decimal | None
    currency: str
    timestamp: dt.datetime


def _timestamp(raw, *, now: dt.datetime) -> dt.datetime:
    """An aware UTC datetime from RFC 3339 text or epoch seconds within the accepted window; raises InputError."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InputError("timestamp", "must be an RFC 3339 string or epoch seconds")
    if isinstance(raw, str):
        at = cast(dt.datetime, parse_rfc3339(raw, field="timestamp"))  # never None without allow_zero
    else:
        if not math.isfinite(raw):
            raise InputError("timestamp", "must be a finite number of epoch seconds")
        if raw > _EPOCH_MS_HINT:
            raise InputError("timestamp", "looks like epoch milliseconds; send epoch seconds")
        try:
            at = check_time(dt.datetime.fromtimestamp(raw, tz=dt.UTC), field="timestamp")
        except (OverflowError, OSError, ValueError):
            raise InputError("timestamp", "is not a valid epoch time") from None
    if at < now - EVENTS_MAX_AGE:
        raise InputError("timestamp", f"is older than {EVENTS_MAX_AGE.days} days")
    if at > now + EVENTS_MAX_FUTURE:
        raise InputError(
            "timestamp", f"is more than {int(EVENTS_MAX_FUTURE.total_seconds() // 60)} minutes in the future"
        )
    return at


def _revenue(raw) -> decimal.Decimal:
    """A Decimal from a JSON number or a decimal string; raises InputError."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InputError("revenue_impact", "must be a number or a decimal string")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise InputError("revenue_impact", "must be a finite number")
    try:
        value = decimal.Decimal(str(raw).strip())
    except decimal.InvalidOperation:
        raise InputError("revenue_impact", "must be a decimal number such as 2310.50") from None
    if not value.is_finite():
        raise InputError("revenue_impact", "must be a finite number")
    if abs(value) >= REVENUE_MAX:
        raise InputError("revenue_impact", "must be less than 10^14 in absolute value")
    exponent = value.as_tuple().exponent  # an int: the value is finite
    if isinstance(exponent, int) and -exponent > REVENUE_DECIMALS:
        raise InputError("revenue_impact", f"has more than {REVENUE_DECIMALS} decimal places")
    return value


def events_validate(*, organization_id: uuid.UUID, payload, now: dt.datetime) -> list[EventRow]:
    """Validate a decoded batch ``{"events": [{…}, …]}``; returns its rows or raises BusinessEventsValidationError.

    Each event: ``event_type`` (required, one of ``EventType``); ``timestamp`` (RFC 3339 with an offset,
    or epoch seconds; default ``now``; at most 90 days old and 5 minutes ahead); ``actor_id`` (string, at
    most 100 characters); ``properties`` (a JSON object, at most 8 KiB encoded); ``revenue_impact`` (a
    number or decimal string, at most 4 decimals, |x| < 10^14) and ``currency`` (an ISO 4217 code, upper
    case), both or neither. Unknown fields are refused, an organization field too: the organization is
    the API key's. The batch holds 1 to ``settings.BUSINESS_EVENTS_MAX_BATCH`` events. Every bad field of
    every event is listed; nothing is returned unless all are valid.
    """
    if not isinstance(payload, dict) or set(payload) != {"events"}:
        raise BusinessEventsValidationError(detail='the body must be a JSON object {"events": [ … ]}')
    events = payload["events"]
    limit = settings.BUSINESS_EVENTS_MAX_BATCH
    if not isinstance(events, list):
        raise BusinessEventsValidationError(detail="events must be a list of event objects")
    if not events:
        raise BusinessEventsValidationError(detail="events is empty: send at least one event")
    if len(events) > limit:
        raise BusinessEventsValidationError(detail=f"events has {len(events)} events; at most {limit} per batch")
    codes = iso_4217_codes()
    rows, errors = [], []
    for index, event in enumerate(events):

        def bad(field, reason, index=index):
            errors.append({"index": index, "field": field, "reason": reason})

        if not isinstance(event, dict):
            bad("event", "must be an object")
            continue
        for key in event:
            if key in _TENANT_FIELDS:
                bad(key, "is not accepted: the organization is the API key's")
            elif key not in _EVENT_FIELDS:
                bad(str(key)[:100], "is not a known field")
        event_type = event.get("event_type")
        if event_type is None:
            bad("event_type", "is required")
        elif event_type not in EventType.values:
            bad("event_type", f"must be one of {', '.join(EventType.values)}")
        at = now
        if event.get("timestamp") is not None:
            try:
                at = _timestamp(event["timestamp"], now=now)
            except InputError as exc:
                bad("timestamp", exc.reason)
        actor = event.get("actor_id", "")
        if actor is None:
            actor = ""
        if not isinstance(actor, str):
            bad("actor_id", "must be a string")
        elif len(actor) > ACTOR_ID_MAX_LENGTH:
            bad("actor_id", f"must be at most {ACTOR_ID_MAX_LENGTH} characters (got {len(actor)})")
        elif (problem := text_problem(actor)) is not None:
            bad("actor_id", problem)
        properties = event.get("properties")
        properties_text = "{}"
        if properties is not None:
            if not isinstance(properties, dict):
                bad("properties", "must be a JSON object")
            else:
                properties_text = json.dumps(properties, separators=(",", ":"), ensure_ascii=False)
                size = len(properties_text.encode())
                if size > PROPERTIES_MAX_BYTES:
                    bad("properties", f"must be at most {PROPERTIES_MAX_BYTES} bytes as JSON (got {size})")
        revenue, currency = event.get("revenue_impact"), event.get("currency")
        amount = None
        if revenue is not None:
            try:
                amount = _revenue(revenue)
            except InputError as exc:
                bad("revenue_impact", exc.reason)
        if currency is not None and not (isinstance(currency, str) and currency in codes):
            bad("currency", "must be an ISO 4217 currency code in upper case, e.g. GBP")
        if (revenue is None) != (currency is None):
            bad(
                "currency" if currency is None else "revenue_impact",
                "revenue_impact and currency go together: send both or neither",
            )
        if not errors:
            rows.append(
                EventRow(
                    organization_id,
                    str(event_type),
                    actor if isinstance(actor, str) else "",
                    properties_text,
                    amount,
                    currency or "",
                    at,
                )
            )
    if errors:
        raise BusinessEventsValidationError(errors=errors)
    return rows


_STAGE_COLUMNS = 'organization_id, event_type, actor_id, properties, revenue_impact, currency, "timestamp"'
_STAGE_TYPES = ["uuid", "text", "text", "text", "numeric", "text", "timestamptz"]


def events_copy(*, rows: list[EventRow] | list[tuple]) -> int:
    """Store validated events in ``business_events`` with one binary COPY (``wedsync_ops.db.copy_through_stage``).

    ``rows``: ``EventRow``s (or tuples in their field order). Runs in the caller's transaction and tenant
    context (RLS checks each row). Returns rows written; raises ``django.db.DatabaseError`` and writes
    nothing on a database refusal.
    """
    if not rows:
        return 0
    return copy_through_stage(
        stage_create_sql=_query("business_events_stage_create"),
        stage_table="business_events_stage_v1",
        columns=_STAGE_COLUMNS,
        types=_STAGE_TYPES,
        rows=(
            tuple(r)
            if isinstance(r, tuple)
            else (r.organization_id, r.event_type, r.actor_id, r.properties, r.revenue_impact, r.currency, r.timestamp)
            for r in rows
        ),
        move_sql=_query("business_events_move_staged"),
    )


def events_ingest(*, organization_id: uuid.UUID, payload, now: dt.datetime) -> int:
    """Validate a decoded batch (``events_validate``) and store it whole in one transaction; returns events stored.

    Raises BusinessEventsValidationError (nothing stored).
    """
    rows = events_validate(organization_id=organization_id, payload=payload, now=now)
    with transaction.atomic():
        return events_copy(rows=rows)


# --- daily computations ------------------------------------------------------------------------------------

COMPUTATIONS = (
    "business_revenue_metrics_compute",
    "business_feature_usage_compute",
    "business_funnels_compute",
    "business_segments_compute",
)


def business_daily_compute(*, from_day: dt.date, to_day: dt.date) -> dict[str, int]:
    """Recompute revenue_metrics, feature_usage, conversion_funnel_steps and user_segment_counts for the local
    days ``from_day``..``to_day`` (each organization's own dates), set-based in SQL (business/sql/functions).

    Idempotent: each function deletes the days' rows and writes them again in this transaction. At most
    400 days at once (ValidationError otherwise). Returns ``{function name: rows written}``. Runs in the
    caller's tenant context (the beat: service, all organizations).
    """
    if to_day < from_day or (to_day - from_day).days > 400:
        raise ValidationError({"to_day": "must be from from_day to 400 days after it"})
    written = {}
    with transaction.atomic(), connection.cursor() as cur:
        for name in COMPUTATIONS:
            cur.execute(f"SELECT {name}(%s, %s)", [from_day, to_day])
            written[name] = cur.fetchone()[0]
    return written


def business_recompute_recent(*, now: dt.datetime) -> dict[str, int]:
    """``business_daily_compute`` for the last ``RECOMPUTE_DAYS`` local days: from the UTC date minus
    ``RECOMPUTE_DAYS`` (covers every time zone's yesterday) to the UTC date plus one (UTC+14's today)."""
    today = now.astimezone(dt.UTC).date()
    return business_daily_compute(
        from_day=today - dt.timedelta(days=RECOMPUTE_DAYS), to_day=today + dt.timedelta(days=1)
    )


def business_events_cleanup(*, now: dt.datetime, batch: int = CLEANUP_BATCH) -> int:
    """Delete business events older than ``EVENTS_RETENTION`` before ``now``, ``batch`` rows per statement
    (short locks, on the index on ``timestamp``); returns rows deleted. Runs in the caller's context."""
    cutoff = now - EVENTS_RETENTION
    deleted = 0
    with connection.cursor() as cur:
        while True:
            cur.execute(
                "DELETE FROM business_events WHERE id IN (SELECT id FROM business_events"
                ' WHERE "timestamp" < %s ORDER BY "timestamp" LIMIT %s)',
                [cutoff, batch],
            )
            deleted += cur.rowcount
            if cur.rowcount < batch:
                return deleted


# --- definitions -----------------------------------------------------------------------------------------------


def funnel_save(
    *, organization, name: str, steps: list[str], funnel: ConversionFunnel | None = None
) -> ConversionFunnel:
    """Create (or update ``funnel``) a named funnel of ``steps`` (2 to 8 event types, in order).

    Raises ValidationError naming the field (``name``: empty, over 100 characters or taken; ``steps``).
    """
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = "must be 1 to 100 characters"
    if not isinstance(steps, list) or not FUNNEL_MIN_STEPS <= len(steps) <= FUNNEL_MAX_STEPS:
        errors["steps"] = f"must list {FUNNEL_MIN_STEPS} to {FUNNEL_MAX_STEPS} event types"
    elif bad := [s for s in steps if s not in EventType.values]:
        errors["steps"] = f"unknown event type(s) {', '.join(map(str, bad))[:200]}"
    if (
        not errors
        # pk None: excludes nothing, which django-stubs does not model
        and ConversionFunnel.objects.filter(organization=organization, name=name)  # type: ignore[misc]
        .exclude(pk=getattr(funnel, "pk", None))
        .exists()
    ):
        errors["name"] = "another funnel of the organization has this name"
    if errors:
        raise ValidationError(errors)
    funnel = funnel or ConversionFunnel(organization=organization)
    funnel.name, funnel.steps = name, list(steps)
    funnel.save()
    return funnel


def segment_rule_validate(rule) -> dict:
    """The normalised rule of a segment, or ValidationError (field ``rule``).

    ``{"wedding_from_days": int, "wedding_to_days": int, "statuses": [wedding statuses]}``: weddings
    dated from ``from`` to ``to`` days after the day counted (-730..730, from <= to); ``statuses``
    defaults to planned and confirmed.
    """
    from wedsync_ops.tenancy.models import Wedding

    if not isinstance(rule, dict) or set(rule) - {"wedding_from_days", "wedding_to_days", "statuses"}:
        raise ValidationError({"rule": "must be an object with wedding_from_days, wedding_to_days and statuses"})
    bounds = []
    for key in ("wedding_from_days", "wedding_to_days"):
        value = rule.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > SEGMENT_MAX_DAYS:
            raise ValidationError(
                {"rule": f"{key} must be a whole number of days from -{SEGMENT_MAX_DAYS} to {SEGMENT_MAX_DAYS}"}
            )
        bounds.append(value)
    if bounds[0] > bounds[1]:
        raise ValidationError({"rule": "wedding_from_days must not be after wedding_to_days"})
    statuses = rule.get("statuses", [Wedding.Status.PLANNED, Wedding.Status.CONFIRMED])
    if not isinstance(statuses, list) or not statuses or set(statuses) - set(Wedding.Status.values):
        raise ValidationError({"rule": f"statuses must list wedding statuses ({', '.join(Wedding.Status.values)})"})
    return {"wedding_from_days": bounds[0], "wedding_to_days": bounds[1], "statuses": sorted(set(statuses))}


def segment_save(*, organization, name: str, rule, segment: UserSegment | None = None) -> UserSegment:
    """Create (or update ``segment``) a rule-defined segment (``segment_rule_validate``); raises ValidationError."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "must be 1 to 100 characters"})
    rule = segment_rule_validate(rule)
    if (
        # pk None: excludes nothing, which django-stubs does not model
        UserSegment.objects.filter(organization=organization, name=name)  # type: ignore[misc]
        .exclude(pk=getattr(segment, "pk", None))
        .exists()
    ):
        raise ValidationError({"name": "another segment of the organization has this name"})
    segment = segment or UserSegment(organization=organization)
    segment.name, segment.rule = name, rule
    segment.save()
    return segment


def alert_rule_save(
    *,
    organization,
    name: str,
    event_type: str,
    direction: str = "drop",
    threshold_percent: float = 50.0,
    min_baseline: float = 5.0,
    window_minutes: int = 60,
    severity: str = "warning",
    priority: str = "high",
    enabled: bool = True,
) -> BusinessAlertRule:
    """Create or update (by organization and name) a business alert rule; raises ValidationError naming the field.

    ``threshold_percent``: 1..1000 (%, a drop of at most 100); ``min_baseline``: events, >= 0;
    ``window_minutes``: 5..1440.
    """
    errors = {}
    if event_type not in EventType.values:
        errors["event_type"] = f"must be one of {', '.join(EventType.values)}"
    if direction not in BusinessAlertRule.Direction.values:
        errors["direction"] = "must be drop or rise"
    if not 1 <= threshold_percent <= (100 if direction == "drop" else 1000):
        errors["threshold_percent"] = "must be 1 to 100 for a drop, 1 to 1000 for a rise"
    if not 0 <= min_baseline <= 1e6:
        errors["min_baseline"] = "must be 0 to 1,000,000 events"
    if not 5 <= window_minutes <= 1440:
        errors["window_minutes"] = "must be 5 to 1440 minutes"
    if errors:
        raise ValidationError(errors)
    rule, _ = BusinessAlertRule.objects.update_or_create(
        organization=organization,
        name=name,
        defaults={
            "event_type": event_type,
            "direction": direction,
            "threshold_percent": threshold_percent,
            "min_baseline": min_baseline,
            "window_minutes": window_minutes,
            "severity": severity,
            "priority": priority,
            "enabled": enabled,
        },
    )
    return rule


# --- business alert rules ----------------------------------------------------------------------------------------

RULE_ALERTNAME = {"drop": "BusinessEventDrop", "rise": "BusinessEventRise"}


def _rule_labels(rule: BusinessAlertRule) -> dict:
    return {
        "alertname": RULE_ALERTNAME[rule.direction],
        "business_rule": str(rule.pk),
        "event_type": rule.event_type,
        "severity": rule.severity,
    }


def business_rules_evaluate(*, now: dt.datetime) -> dict[str, int]:
    """Evaluate every enabled business alert rule at ``now`` (SQL ``business_alert_rules_evaluate``, one query).

    ``alerts.services.alerts_sync`` (source ``business``, every organization) makes the open business
    alerts be exactly the breaching rules: they fire in one batch (an open alert of the rule is only
    touched), the alert's value being the window's count and its threshold the count the rule allows;
    open alerts of rules no longer breaching (or disabled) resolve. Returns ``{"evaluated", "breaching",
    "fired", "resolved"}``. Runs in the caller's context (the beat: service).
    """
    from alerts.fingerprint import labels_fingerprint
    from alerts.models import AlertHistory
    from alerts.services import FireCandidate, alerts_sync

    from .impact import event_label

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT rule_id, current_count, baseline_count, change_percent, breaching"
                " FROM business_alert_rules_evaluate(%s)",
                [now],
            )
            results = {row[0]: row[1:] for row in cur.fetchall()}
        rules = {r.pk: r for r in BusinessAlertRule.objects.filter(pk__in=results)}
        candidates = []
        for pk, (current, baseline, change, breaching) in results.items():
            if not breaching:
                continue
            rule = rules[pk]
            labels = _rule_labels(rule)
            fingerprint = labels_fingerprint(labels)
            step = rule.threshold_percent / 100
            if rule.direction == "drop":
                threshold = baseline * (1 - step)
            else:
                threshold = max(baseline, rule.min_baseline, 1) * (1 + step)
            change_words = f"{change:+.0f}%" if change is not None else "up from none"
            words = (
                f"{event_label(rule.event_type)} {change_words} over the last {rule.window_minutes} min: "
                f"{current} against a normal of {baseline:.1f} (same window, previous 4 weeks)"
            )
            candidates.append(
                FireCandidate(
                    organization_id=rule.organization_id,
                    fingerprint=fingerprint,
                    source=AlertHistory.Source.BUSINESS,
                    title=f"{rule.name}: {words}"[:500],
                    labels=labels,
                    annotations={"summary": words, "description": "business alert rule " + rule.name},
                    severity=rule.severity,
                    priority=rule.priority,
                    starts_at=now,
                    value=float(current),
                    threshold=round(threshold, 3),
                    threshold_reason=f"{rule.direction} of {rule.threshold_percent:g}% from the 4-week baseline",
                    group_key=f"business:{rule.organization_id}:{rule.event_type}",
                    description=words,
                )
            )
        fired, resolved = alerts_sync(source=AlertHistory.Source.BUSINESS, firing=candidates, now=now)
    return {
        "evaluated": len(results),
        "breaching": len(candidates),
        "fired": sum(c.created for c in fired),
        "resolved": len(resolved),
    }
