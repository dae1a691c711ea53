"""Server-side SVG charts for dashboard widgets: no JavaScript, colour-blind-safe, labelled.

The series colour is Okabe-Ito blue (#0072B2), readable for the common
colour-vision deficiencies; values are also given as text (title, axis
labels and an accessible table in the template), never by colour alone.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T, PAD_R = 560, 180, 56, 28, 12, 12
COLOUR = "#0072B2"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def series_chart(points: list[tuple[dt.datetime, float]], *, kind: str, title: str, unit: str = "",
                 tz=dt.UTC) -> str:
    """An SVG line or bar chart of ``points`` ``[(time, value)]``; an empty-state SVG without points."""
    label = escape(f"{title}{f' ({unit})' if unit else ''}")
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart"'
            f' aria-label="{label}"><title>{label}</title>')
    if not points:
        return head + (f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#555">'
                       "no data in this window</text></svg>")
    top = _nice_max(max(v for _, v in points))
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    span = max(t1 - t0, 1.0)

    def x(at: dt.datetime) -> float:
        return PAD_L + (at.timestamp() - t0) / span * plot_w if len(points) > 1 else PAD_L + plot_w / 2

    def y(v: float) -> float:
        return PAD_T + plot_h - (v / top) * plot_h

    parts = [head]
    for frac in (0, 0.5, 1):
        yy = y(top * frac)
        parts.append(f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{_fmt(top * frac)}</text>")
    for at in (points[0][0], points[-1][0]):
        parts.append(f'<text x="{x(at):.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11">'
                     f'{at.astimezone(tz):%d %b %H:%M}</text>')
    if kind == "bar":
        bar = max(2.0, plot_w / max(len(points), 1) * 0.7)
        for at, v in points:
            parts.append(f'<rect x="{x(at) - bar / 2:.1f}" y="{y(v):.1f}" width="{bar:.1f}"'
                         f' height="{PAD_T + plot_h - y(v):.1f}" fill="{COLOUR}">'
                         f"<title>{at:%H:%M} {_fmt(v)}</title></rect>")
    else:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(at):.1f},{y(v):.1f}" for i, (at, v) in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{COLOUR}" stroke-width="2"/>')
        for at, v in points:
            parts.append(f'<circle cx="{x(at):.1f}" cy="{y(v):.1f}" r="2.5" fill="{COLOUR}">'
                         f'<title>{at:%H:%M} {_fmt(v)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
