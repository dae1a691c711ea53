"""Server-side SVG charts for every page: line charts (trends) and bar charts (reports).

No JavaScript and no downloads: the portal works offline. Colours are the
Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), which stays
distinguishable with the common colour-vision deficiencies; lines also get
their own dash pattern, and every chart has a title, a legend and an
``aria-label``/``<title>`` summary, so no value is told by colour alone.
Text and axes use ``currentColor``, so charts follow the page's dark mode.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

# Line charts take the first four: blue, vermilion, bluish green, reddish purple.
PALETTE = (OKABE_ITO[0], OKABE_ITO[5], OKABE_ITO[2], OKABE_ITO[3])
DASHES = ("", "6 3", "2 3", "8 3 2 3")


@dataclass(frozen=True)
class Series:
    """One line: ``label`` for the legend, ``values`` aligned with the chart's times (None = gap)."""

    label: str
    values: list[float | None]


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f}%"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M{unit}"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k{unit}"
    if value != int(value):
        return f"{value:.1f}{unit}"
    return f"{int(value)}{unit}"


def line_chart(
    *,
    title: str,
    times: list[dt.datetime],
    series: list[Series],
    unit: str = "",
    width: int = 640,
    height: int = 190,
    chart_id: str = "",
    zero_based: bool = True,
) -> SafeString:
    """An accessible SVG line chart of ``series`` over ``times`` (oldest first).

    The y axis runs from 0 (or the lowest value, if negative; with
    ``zero_based=False`` from the lowest value) to the highest value; the
    legend sits between the title and the plot; labels show the extremes and the first/last time (UTC, HH:MM).
    With fewer than two points it renders a labelled "not enough history"
    box instead. ``unit`` is appended to axis labels (``"%"`` formats as a
    percentage). Returns safe HTML (an ``<svg>`` element). Raises ValueError when a series has
    not one value per time.
    """
    left, right, top, bottom = 56, 12, 40, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    if len(times) < 2 or not values:
        return format_html(
            '<svg role="img" aria-label="{0}: not enough history yet" width="{1}" height="{2}" '
            'viewBox="0 0 {1} {2}" class="trend-chart" id="{3}"><title>{0}</title>'
            '<text x="8" y="16" font-size="13" font-weight="bold" fill="currentColor">{0}</text>'
            '<text x="{4}" y="{5}" font-size="12" text-anchor="middle" fill="currentColor">'
            "not enough history yet</text></svg>",
            title,
            width,
            height,
            chart_id,
            width // 2,
            height // 2,
        )
    lo, hi = (min(0.0, min(values)) if zero_based else min(values)), max(values)
    if hi == lo:
        hi = lo + 1
    t0, t1 = times[0].timestamp(), times[-1].timestamp()
    span = (t1 - t0) or 1.0

    def x(t: dt.datetime) -> float:
        return left + (t.timestamp() - t0) / span * plot_w

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    # Each time's x and tooltip stamp once for all series (the points are plain f-strings below: one
    # format_html per point, escaping seven arguments, was most of a chart's cost).
    xs = [f"{x(t):.1f}" for t in times]
    stamps = [t.astimezone(dt.UTC).strftime("%d %b %H:%M UTC") for t in times]
    paths = []
    for i, s in enumerate(series):
        if len(s.values) != len(times):
            raise ValueError(f"series {s.label!r} has {len(s.values)} values for {len(times)} times")
        segments, current = [], []
        for j, v in enumerate(s.values):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{xs[j]},{y(v):.1f}")
        if current:
            segments.append(current)
        d = " ".join("M" + " L".join(seg) for seg in segments if seg)
        paths.append(
            format_html(
                '<path d="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"><title>{}</title></path>',
                d,
                PALETTE[i % len(PALETTE)],
                DASHES[i % len(DASHES)],
                s.label,
            )
        )
        # Every point has its own tooltip (a lone point between two gaps is drawn as a dot).
        lone = {
            j
            for j, v in enumerate(s.values)
            if v is not None
            and (j == 0 or s.values[j - 1] is None)
            and (j == len(s.values) - 1 or s.values[j + 1] is None)
        }
        label, color = conditional_escape(s.label), conditional_escape(PALETTE[i % len(PALETTE)])
        circles = [
            f'<circle class="point{" point--lone" if j in lone else ""}" cx="{xs[j]}" cy="{y(v):.1f}" '
            f'r="{3 if j in lone else 4}" fill="{color}"><title>{stamps[j]} · {label}: '
            f"{conditional_escape(_fmt(v, unit))}</title></circle>"
            for j, v in enumerate(s.values)
            if v is not None
        ]
        paths.append(mark_safe("".join(circles)))  # noqa: S308  (every part above is escaped or a number)
    legend = format_html_join(
        "",
        '<g transform="translate({},{})"><line x1="0" y1="-4" x2="18" y2="-4" stroke="{}" stroke-width="2" '
        'stroke-dasharray="{}"/><text x="22" y="0" font-size="11" fill="currentColor">{}</text></g>',
        (
            (left + i * 150, 32, PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], s.label)
            for i, s in enumerate(series)
        ),
    )
    summary = "; ".join(
        f"{s.label} last {_fmt(last, unit)}, max {_fmt(max(v for v in s.values if v is not None), unit)}"
        for s in series
        if (last := next((v for v in reversed(s.values) if v is not None), None)) is not None
    )
    return format_html(
        '<svg role="img" aria-label="{title}: {summary}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'class="trend-chart" id="{cid}"><title>{title}</title>'
        '<text x="8" y="14" font-size="13" font-weight="bold" fill="currentColor">{title}</text>'
        '<line x1="{l}" y1="{base}" x2="{r}" y2="{base}" stroke="currentColor" stroke-opacity="0.6"/>'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{base}" stroke="currentColor" stroke-opacity="0.6"/>'
        '<text x="{lx}" y="{ty}" font-size="11" text-anchor="end" fill="currentColor">{hi}</text>'
        '<text x="{lx}" y="{base}" font-size="11" text-anchor="end" fill="currentColor">{lo}</text>'
        '<text x="{l}" y="{tl}" font-size="11" fill="currentColor">{start}</text>'
        '<text x="{r}" y="{tl}" font-size="11" text-anchor="end" fill="currentColor">{end} UTC</text>'
        "{paths}{legend}</svg>",
        title=title,
        summary=summary,
        w=width,
        h=height,
        cid=chart_id,
        l=left,
        r=left + plot_w,
        t=top,
        base=top + plot_h,
        lx=left - 4,
        ty=top + 10,
        hi=_fmt(hi, unit),
        lo=_fmt(lo, unit),
        tl=height - 8,
        start=times[0].astimezone(dt.UTC).strftime("%d %b %H:%M"),
        end=times[-1].astimezone(dt.UTC).strftime("%H:%M"),
        paths=mark_safe("".join(paths)),
        legend=legend,
    )


# --- bar charts -----------------------------------------------------------------


W, H = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 64


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        top = step * 5
        if value <= top:
            return float(top)
    return float(value)


def bar_chart(
    *,
    title: str,
    categories: list[str],
    series: list[tuple[str, list[float | None]]],
    y_label: str,
    stacked: bool = False,
    fmt: str = "{:g}",
) -> SafeString:
    """An SVG bar chart (str marked safe): one group per category, one bar (or stack part) per series.

    ``series``: ``[(name, values)]`` with one value per category (None: no
    data, drawn as a zero-height bar on the axis with a "none" tooltip; nothing in a
    stack). ``fmt`` formats values in tooltips and ticks.
    """
    n = max(len(categories), 1)
    values = [[v or 0 for v in vals] for _name, vals in series]
    if stacked:
        peak = max((sum(col) for col in zip(*values, strict=True)), default=0) if values else 0
    else:
        peak = max((max(v) for v in values if v), default=0)
    top = _nice_max(peak)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    group_w = plot_w / n
    bar_w = group_w * 0.7 / (1 if stacked else max(len(series), 1))

    def y(v: float) -> float:
        return TOP + plot_h - (v / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="chart"'
        f' aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold" fill="currentColor">{escape(title)}</text>',
        f'<text transform="translate(14,{TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" font-size="12"'
        f' fill="currentColor">{escape(y_label)}</text>',
    ]
    for i in range(6):
        v = top * i / 5
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="currentColor"'
            f' stroke-opacity="0.15"/><text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11"'
            f' fill="currentColor">{escape(fmt.format(v))}</text>'
        )
    for ci, cat in enumerate(categories):
        gx = LEFT + ci * group_w + group_w * 0.15
        base = 0.0
        for si, (name, vals) in enumerate(series):
            raw = vals[ci]
            color = OKABE_ITO[si % len(OKABE_ITO)]
            if raw is None:
                # No data that week (no incident, so no MTTA): a zero-height bar on the axis, with its tooltip,
                # so an empty week is seen as empty rather than missing from the axis.
                if not stacked:
                    x = gx + si * bar_w
                    label = f"{cat} · {name}: none"
                    parts.append(
                        f'<rect class="bar--empty" x="{x:.1f}" y="{y(0) - 1:.1f}" width="{max(bar_w - 1, 1):.1f}"'
                        f' height="2" fill="{color}" data-value="0" aria-label="{escape(label)}">'
                        f"<title>{escape(label)}</title></rect>"
                    )
                continue
            x = gx if stacked else gx + si * bar_w
            y_top = y(base + raw) if stacked else y(raw)
            height = (y(base) if stacked else y(0)) - y_top
            label = f"{cat} · {name}: {fmt.format(raw)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{max(height, 0):.1f}"'
                f' fill="{color}" aria-label="{escape(label)}"><title>{escape(label)}</title></rect>'
            )
            if stacked:
                base += raw
        parts.append(
            f'<text x="{LEFT + ci * group_w + group_w / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle"'
            f' font-size="11" fill="currentColor">{escape(cat)}</text>'
        )
    lx = LEFT
    for si, (name, _vals) in enumerate(series):
        color = OKABE_ITO[si % len(OKABE_ITO)]
        parts.append(
            f'<rect x="{lx}" y="{H - 22}" width="12" height="12" fill="{color}"/>'
            f'<text x="{lx + 16}" y="{H - 12}" font-size="12" fill="currentColor">{escape(name)}</text>'
        )
        lx += 28 + 8 * len(name)
    if not categories:
        parts.append(
            f'<text x="{W / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" fill="currentColor">No incidents</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


# --- time series, as widgets ask for them ------------------------------------------


def series_chart(
    points: list[tuple[dt.datetime, float]], *, kind: str, title: str, unit: str = "", tz=dt.UTC
) -> SafeString:
    """One time series ``[(time, value)]`` as a line (``kind="line"``) or bar chart (``kind="bar"``).

    Bars are labelled with the time in ``tz`` (HH:MM); lines use ``line_chart``'s
    axes (UTC). Fewer than two points: ``line_chart``'s labelled empty state.
    """
    label = f"{title} ({unit})" if unit else title
    if kind == "bar" and points:
        return bar_chart(
            title=label,
            categories=[at.astimezone(tz).strftime("%H:%M") for at, _ in points],
            series=[(title, [value for _, value in points])],
            y_label=unit or "value",
        )
    return line_chart(
        title=label,
        times=[at for at, _ in points],
        series=[Series(title, [value for _, value in points])],
        unit=f" {unit}" if unit else "",
    )


# --- status strips (heartbeat checks: one cell per day) ---------------------------------------

# state -> (fill, pattern id or "", label). Up and down differ in colour, in fill pattern and in height.
STRIP_STATES = {
    "up": (OKABE_ITO[2], "", "up"),
    "late": (OKABE_ITO[1], "strip-hatch", "late"),
    # Status pages: a day with some failed checks (hatched like late, its own word).
    "degraded": (OKABE_ITO[1], "strip-hatch", "degraded"),
    "down": (OKABE_ITO[5], "", "down"),
    "none": ("none", "", "no data"),
}


def status_strip(
    *, title: str, cells: list[tuple[str, str, str]], chart_id: str = "", cell_w: int = 9, height: int = 22
) -> SafeString:
    """A row of day cells, oldest first: ``cells`` are ``(label, state, detail)`` with state ``up``,
    ``late``, ``down`` or ``none`` (no data).

    Not colour alone: down cells are full height, up cells two thirds, late
    cells hatched, no-data cells an outline; every cell has a ``<title>``
    (label, state, detail) and the ``aria-label`` counts the days per state.
    Returns safe HTML (an ``<svg>`` element).
    """
    gap = 2
    width = max(len(cells), 1) * (cell_w + gap)
    counts = {state: sum(1 for _l, s, _d in cells if s == state) for state in STRIP_STATES}
    summary = ", ".join(
        f"{counts[s]} {STRIP_STATES[s][2]}" for s in ("up", "late", "degraded", "down", "none") if counts[s]
    )
    rects = []
    for i, (label, state, detail) in enumerate(cells):
        fill, pattern, word = STRIP_STATES.get(state, STRIP_STATES["none"])
        x = i * (cell_w + gap)
        h = height if state in ("down", "late", "degraded") else (height * 2 // 3 if state == "up" else height - 2)
        y = height - h
        tip = f"{label}: {word}" + (f" ({detail})" if detail else "")
        if state == "none":
            rects.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="currentColor" stroke-opacity="0.4">'
                    "<title>{}</title></rect>",
                    x + 0.5,
                    y + 0.5,
                    cell_w - 1,
                    h - 1,
                    tip,
                )
            )
        else:
            rects.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="strip-{}"><title>{}</title></rect>',
                    x,
                    y,
                    cell_w,
                    h,
                    f"url(#{pattern}-{chart_id})" if pattern else fill,
                    state,
                    tip,
                )
            )
    hatch = format_html(
        '<defs><pattern id="strip-hatch-{}" width="4" height="4" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="4" height="4" fill="{}"/>'
        '<line x1="0" y1="0" x2="0" y2="4" stroke="#000" stroke-opacity="0.45" stroke-width="2"/></pattern></defs>',
        chart_id,
        OKABE_ITO[1],
    )
    return format_html(
        '<svg role="img" aria-label="{title}: {summary}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'class="status-strip" id="{cid}"><title>{title}: {summary}</title>'
        "{hatch}{rects}</svg>",
        title=title,
        summary=summary or "no days",
        w=width,
        h=height,
        cid=chart_id,
        hatch=hatch,
        rects=mark_safe("".join(rects)),
    )


# --- timelines (who is on call when) -------------------------------------------------------------

# Fills for people, with the text colour that reads on each; vermilion is left out: red means a gap.
TIMELINE_FILLS = (
    ("#0072B2", "#ffffff"),
    ("#E69F00", "#000000"),
    ("#009E73", "#ffffff"),
    ("#CC79A7", "#000000"),
    ("#56B4E9", "#000000"),
    ("#F0E442", "#000000"),
    ("#000000", "#ffffff"),
)
GAP_FILL = "#C62828"


@dataclass(frozen=True)
class Segment:
    """One bar of a timeline lane: [start, end) aware; ``text`` shown inside and in the tooltip;
    ``color``: an index into ``TIMELINE_FILLS`` (same person, same colour); ``gap``: drawn red and hatched."""

    start: dt.datetime
    end: dt.datetime
    text: str
    color: int = 0
    gap: bool = False


def timeline_chart(
    *,
    title: str,
    start: dt.datetime,
    end: dt.datetime,
    lanes: list[tuple[str, list[Segment]]],
    tz,
    now: dt.datetime | None = None,
    chart_id: str = "",
    width: int = 960,
) -> SafeString:
    """An accessible SVG timeline: one row per lane, bars per segment, day ticks at local midnights in ``tz``.

    Gaps are red with a hatch pattern and the word "gap" (not told by colour alone); every bar has a
    ``<title>`` tooltip with its local start and end; Saturdays' ticks are bold; ``now`` draws a
    marker. The ``aria-label`` summarises the gaps. Returns safe HTML (an ``<svg>`` element).
    """
    left, right, top, lane_h, bottom = 150, 10, 34, 26, 30
    plot_w = width - left - right
    height = top + lane_h * max(len(lanes), 1) + bottom
    legend: dict[tuple, str] = {}
    t0, t1 = start.timestamp(), end.timestamp()
    span = (t1 - t0) or 1.0

    def x(t: dt.datetime) -> float:
        return left + (min(max(t.timestamp(), t0), t1) - t0) / span * plot_w

    def local(t: dt.datetime) -> str:
        return t.astimezone(tz).strftime("%a %d %b %H:%M %Z")

    pid = f"gap-hatch-{chart_id or 'chart'}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" class="timeline-chart" id="{escape(chart_id)}"'
        ' aria-label="{aria}">',
        f"<title>{escape(title)}</title>",
        f'<defs><pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="8" height="8" fill="{GAP_FILL}"/><line x1="0" y1="0" x2="0" y2="8" stroke="#ffffff"'
        ' stroke-width="3" stroke-opacity="0.5"/></pattern></defs>',
    ]
    day = start.astimezone(tz).date()
    while True:
        midnight = dt.datetime.combine(day, dt.time()).replace(tzinfo=tz)
        if midnight >= end:
            break
        if midnight >= start:
            tx = x(midnight)
            saturday = day.isoweekday() == 6
            weight = ' font-weight="bold"' if saturday else ""
            parts.append(
                f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - bottom}" stroke="currentColor"'
                f' stroke-opacity="{0.45 if saturday else 0.18}"/>'
                f'<text x="{tx + 2:.1f}" y="{top - 8}" font-size="10" fill="currentColor"'
                f"{weight}>{escape(day.strftime('%a %d'))}</text>"
            )
        day += dt.timedelta(days=1)
    gap_hours = 0.0
    gap_count = 0
    for i, (label, segments) in enumerate(lanes):
        y = top + i * lane_h
        parts.append(f'<text x="4" y="{y + 17}" font-size="12" fill="currentColor">{escape(label[:22])}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{plot_w}" height="{lane_h - 6}" fill="currentColor"'
            ' fill-opacity="0.05"/>'
        )
        for seg in segments:
            sx, ex = x(seg.start), x(seg.end)
            w = max(ex - sx, 1.0)
            tip = f"{seg.text}: {local(seg.start)} – {local(seg.end)}"
            if seg.gap:
                gap_count += 1
                gap_hours += (seg.end - seg.start).total_seconds() / 3600
                fill, ink = f"url(#{pid})", "#ffffff"
            else:
                fill, ink = TIMELINE_FILLS[seg.color % len(TIMELINE_FILLS)]
            parts.append(
                f'<rect x="{sx:.1f}" y="{y + 3}" width="{w:.1f}" height="{lane_h - 6}" fill="{fill}"'
                f' class="{"timeline-gap" if seg.gap else "timeline-shift"}" data-start="{seg.start.isoformat()}"'
                f' data-end="{seg.end.isoformat()}"><title>{escape(tip)}</title></rect>'
            )
            if not seg.gap:
                legend.setdefault((seg.color % len(TIMELINE_FILLS),), seg.text)
            label = next((t for t in (seg.text, seg.text.split(" ")[0]) if w > 6.5 * len(t) + 8), "")
            if label:
                parts.append(
                    f'<text x="{sx + 4:.1f}" y="{y + 17}" font-size="11" fill="{ink}"'
                    f' pointer-events="none">{escape(label)}</text>'
                )
    lx, ly = left, height - 12
    for (color,), text in legend.items():
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{TIMELINE_FILLS[color][0]}"/>'
            f'<text x="{lx + 14}" y="{ly}" font-size="11" fill="currentColor">{escape(text)}</text>'
        )
        lx += 24 + 7 * len(text)
    if gap_count:
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="url(#{pid})"/>'
            f'<text x="{lx + 14}" y="{ly}" font-size="11" fill="currentColor">gap: nobody on call</text>'
        )
    if now is not None and start <= now <= end:
        nx = x(now)
        parts.append(
            f'<line x1="{nx:.1f}" y1="{top - 4}" x2="{nx:.1f}" y2="{height - bottom}" stroke="currentColor"'
            ' stroke-width="2" stroke-dasharray="3 2"><title>now</title></line>'
        )
    parts.append("</svg>")
    aria = f"{title}: {gap_count} gap(s) totalling {gap_hours:.0f} h" if gap_count else f"{title}: no gaps"
    parts[0] = parts[0].replace("{aria}", escape(aria))
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
