"""Server-side SVG bar charts for the reports page: no JavaScript, no downloads.

Colours: the Okabe-Ito palette (safe for the common colour-vision
deficiencies); every chart has a title, axis label, legend and a ``<title>``
tooltip (and ``aria-label``) per bar giving its exact value.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

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
    data, drawn as nothing). ``fmt`` formats values in tooltips and ticks.
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
        f' aria-label="{escape(title)}" style="max-width:100%;height:auto">',
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
            if raw is None:
                continue
            color = OKABE_ITO[si % len(OKABE_ITO)]
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
