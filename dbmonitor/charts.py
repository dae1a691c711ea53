"""Server-side SVG line charts for the history trends of ``/ops/db/`` (no JavaScript, no CDN).

Colours are the Okabe-Ito palette (distinguishable with the common colour
vision deficiencies), and every series also has its own dash pattern and a
labelled legend, so a line is never told by colour alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Okabe & Ito (2008), "Color Universal Design": blue, vermilion, bluish green, reddish purple.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
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
    *, title: str, times: list[dt.datetime], series: list[Series], unit: str = "", width: int = 640,
    height: int = 190, chart_id: str = "", zero_based: bool = True,
) -> SafeString:
    """An accessible SVG line chart of ``series`` over ``times`` (oldest first).

    The y axis runs from 0 (or the lowest value, if negative; with
    ``zero_based=False`` from the lowest value) to the highest value; the
    legend sits between the title and the plot; labels show the extremes and the first/last time (UTC, HH:MM).
    With fewer than two points it renders a labelled "not enough history"
    box instead. ``unit`` is appended to axis labels (``"%"`` formats as a
    percentage). Returns safe HTML (an ``<svg>`` element).
    """
    left, right, top, bottom = 56, 12, 40, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    if len(times) < 2 or not values:
        return format_html(
            '<svg role="img" aria-label="{0}: not enough history yet" width="{1}" height="{2}" '
            'viewBox="0 0 {1} {2}" class="trend-chart" id="{3}"><title>{0}</title>'
            '<text x="8" y="16" font-size="13" font-weight="bold">{0}</text>'
            '<text x="{4}" y="{5}" font-size="12" text-anchor="middle">not enough history yet</text></svg>',
            title, width, height, chart_id, width // 2, height // 2,
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

    paths = []
    for i, s in enumerate(series):
        segments, current = [], []
        for t, v in zip(times, s.values, strict=True):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{x(t):.1f},{y(v):.1f}")
        if current:
            segments.append(current)
        d = " ".join("M" + " L".join(seg) for seg in segments if seg)
        paths.append(format_html(
            '<path d="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"><title>{}</title></path>',
            d, PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], s.label,
        ))
    legend = format_html_join(
        "", '<g transform="translate({},{})"><line x1="0" y1="-4" x2="18" y2="-4" stroke="{}" stroke-width="2" '
        'stroke-dasharray="{}"/><text x="22" y="0" font-size="11">{}</text></g>',
        ((left + i * 150, 32, PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], s.label)
         for i, s in enumerate(series)),
    )
    summary = "; ".join(
        f"{s.label} last {_fmt(last, unit)}, max {_fmt(max(v for v in s.values if v is not None), unit)}"
        for s in series
        if (last := next((v for v in reversed(s.values) if v is not None), None)) is not None
    )
    return format_html(
        '<svg role="img" aria-label="{title}: {summary}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'class="trend-chart" id="{cid}"><title>{title}</title>'
        '<text x="8" y="14" font-size="13" font-weight="bold">{title}</text>'
        '<line x1="{l}" y1="{base}" x2="{r}" y2="{base}" stroke="#555"/>'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{base}" stroke="#555"/>'
        '<text x="{lx}" y="{ty}" font-size="11" text-anchor="end">{hi}</text>'
        '<text x="{lx}" y="{base}" font-size="11" text-anchor="end">{lo}</text>'
        '<text x="{l}" y="{tl}" font-size="11">{start}</text>'
        '<text x="{r}" y="{tl}" font-size="11" text-anchor="end">{end} UTC</text>'
        "{paths}{legend}</svg>",
        title=title, summary=summary, w=width, h=height, cid=chart_id, l=left, r=left + plot_w, t=top,
        base=top + plot_h, lx=left - 4, ty=top + 10, hi=_fmt(hi, unit), lo=_fmt(lo, unit), tl=height - 8,
        start=times[0].astimezone(dt.UTC).strftime("%d %b %H:%M"), end=times[-1].astimezone(dt.UTC).strftime("%H:%M"),
        paths=mark_safe("".join(paths)), legend=legend,
    )
