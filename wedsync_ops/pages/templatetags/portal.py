"""Template helpers of the portal pages: ``{% load portal %}``.

Status is never told by colour alone (colour-blind safe): every badge
carries a shape and a text label as well as its colour class.
"""

from django import template
from django.utils.html import format_html

register = template.Library()

# badge kind -> shape shown before the label (aria-hidden; the label says it in words)
SHAPES = {"ok": "✓", "warn": "▲", "bad": "✖", "info": "●"}

# a status/severity/priority value -> badge kind
KINDS = {
    # good
    "ok": "ok",
    "healthy": "ok",
    "delivered": "ok",
    "resolved": "ok",
    "closed": "ok",
    "off": "ok",
    # needs attention
    "watch": "warn",
    "warning": "warn",
    "pending": "warn",
    "sending": "warn",
    "acknowledged": "warn",
    "investigating": "warn",
    "medium": "warn",
    "p2": "warn",
    "on": "warn",
    "maintenance": "warn",
    # bad
    "slow": "bad",
    "critical": "bad",
    "emergency": "bad",
    "failed": "bad",
    "firing": "bad",
    "escalated": "bad",
    "open": "bad",
    "high": "bad",
    "p0": "bad",
    "p1": "bad",
    # neutral
    "info": "info",
    "low": "info",
    "p3": "info",
    "unknown": "info",
    "unassigned": "info",
    "suppressed": "info",
    "planned": "info",
    "confirmed": "ok",
    "completed": "ok",
    "cancelled": "info",
    # heartbeat checks and their pings, beat jobs and their runs
    "up": "ok",
    "late": "warn",
    "down": "bad",
    "new": "info",
    "paused": "info",
    "success": "ok",
    "fail": "bad",
    "start": "info",
    "log": "info",
    "stale": "bad",
    "failing": "bad",
    "running": "info",
    "never": "info",
    "failure": "bad",
    "retry": "warn",
}


def badge_kind(value) -> str:
    """The badge kind (``ok``/``warn``/``bad``/``info``) of a status, severity or priority value."""
    return KINDS.get(str(value).lower(), "info")


@register.simple_tag
def badge(value, label=None):
    """``{% badge status %}`` -> ``<span class="badge badge--bad"><span aria-hidden="true">✖</span> firing</span>``.

    ``label`` overrides the text (defaults to the value). Escaped.
    """
    kind = badge_kind(value)
    return format_html(
        '<span class="badge badge--{}"><span class="badge__shape" aria-hidden="true">{}</span> {}</span>',
        kind,
        SHAPES[kind],
        value if label is None else label,
    )


@register.filter
def ms(value):
    """A duration in ms for display: ``812.4`` -> ``"812 ms"``, ``None`` -> ``"–"``."""
    if value is None:
        return "–"
    try:
        return f"{float(value):,.0f} ms"
    except (TypeError, ValueError):
        return str(value)


@register.simple_tag
def p95_trend_chart(trend: dict):
    """An SVG line chart of ``pages.selectors.p95_trend``: worst and median service p95 (ms) per 5 minutes."""
    from wedsync_ops.charts import Series, line_chart

    return line_chart(
        title="Service p95 latency (5-minute buckets)",
        times=trend["times"],
        series=[Series("worst service p95", trend["worst"]), Series("median service p95", trend["median"])],
        unit=" ms",
        width=640,
        height=220,
        chart_id="p95-trend-chart",
    )


@register.filter
def minutes_span(minutes) -> str:
    """``407`` → ``"6 h 47 min"``; ``-30`` → ``"30 min"`` (the sign is the caller's wording); None → ``""``."""
    if minutes is None:
        return ""
    m = abs(int(minutes))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


@register.simple_tag
def error_rate_chart(trend: dict):
    """An SVG line chart of ``pages.selectors.error_rate_trend``: errors per minute, per 5 minutes."""
    from wedsync_ops.charts import Series, line_chart

    return line_chart(
        title="Errors reported per minute (5-minute buckets)",
        times=trend["times"],
        series=[Series("errors/min", trend["per_minute"])],
        unit="/min",
        width=640,
        height=200,
        chart_id="error-rate-chart",
    )


# --- formatting (issue 14 §4): one filter for every time the pages show ---------------------------

#: The zone staff pages show times in beside UTC (the platform's home: most weddings are UK ones).
DISPLAY_TIME_ZONE = "Europe/London"


def format_when(value, zone: str | None = None, *, now=None) -> str:
    """An instant as people read it: ``"Sat 13 Jun 14:05 BST (13:05 UTC)"``; today's without the date.

    ``value``: an aware datetime (naive ones are taken as UTC), or None (``"–"``). ``zone``: an IANA
    name (an organization's ``timezone``; default ``DISPLAY_TIME_ZONE``); in UTC itself the
    parenthesis is left out (``"Sat 13 Jun 13:05 UTC"``). "Today" is ``now``'s date in that zone
    (default: the clock). Never ISO, never microseconds. Raises nothing: an unknown zone falls back
    to ``DISPLAY_TIME_ZONE``.
    """
    import datetime as dt
    import zoneinfo

    from django.utils import timezone

    if value is None or value == "":
        return "–"
    if not isinstance(value, dt.datetime):
        return str(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    try:
        tz = zoneinfo.ZoneInfo(zone or DISPLAY_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(DISPLAY_TIME_ZONE)
    now = now or timezone.now()
    local, utc = value.astimezone(tz), value.astimezone(dt.UTC)
    day = "" if local.date() == now.astimezone(tz).date() else f"{local:%a} {local.day} {local:%b} "
    if local.year != now.astimezone(tz).year:
        day = f"{local:%a} {local.day} {local:%b} {local.year} "
    if tz.key in ("UTC", "Etc/UTC"):
        return f"{day}{utc:%H:%M} UTC"
    return f"{day}{local:%H:%M} {local.tzname()} ({utc:%H:%M} UTC)"


@register.filter
def when(value, zone=None):
    """``{{ alert.starts_at|when }}`` or ``{{ t|when:org.timezone }}``: ``format_when`` (escaped by Django)."""
    return format_when(value, zone)


@register.filter
def pct(value, digits=1):
    """A ratio 0..1 as a percentage: ``0.973`` → ``"97.3%"``; None → ``"–"``."""
    if value is None or value == "":
        return "–"
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def words(value):
    """An enum value in words: ``"wedding_day_critical"`` → ``"wedding day critical"``, ``p0`` stays."""
    if value is None:
        return "–"
    return str(value).replace("_", " ").replace(".", " ")


@register.filter
def org_name(org):
    """An organization's name (never its slug); ``"platform"`` for None."""
    return getattr(org, "name", None) or "platform"


WEEKDAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


@register.filter
def weekday_names(days):
    """ISO weekdays as words: ``[1, 2, 6]`` → ``"Mon, Tue, Sat"``; every day → ``"every day"``."""
    try:
        wanted = sorted({int(d) for d in days or []})
    except (TypeError, ValueError):
        return "–"
    if wanted == list(range(1, 8)):
        return "every day"
    return ", ".join(WEEKDAY_NAMES[d] for d in wanted if d in WEEKDAY_NAMES) or "–"


@register.filter
def iso_when(value, zone=None):
    """``format_when`` of an ISO 8601 string (stored JSON, e.g. an analysis timeline's ``at``); else as given."""
    import datetime as dt

    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_when(value, zone)


@register.filter
def iso_date(value):
    """A ``YYYY-MM-DD`` string (or date) as ``"Wed 1 Jul 2026"``; anything else as given."""
    import datetime as dt

    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.date):
        return f"{value:%a} {value.day} {value:%b} {value.year}"
    return value
