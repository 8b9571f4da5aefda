"""Small inline SVG charts for the report: no JavaScript, no external files.

Every label is escaped for XML (labels come from the data: domains, sources, reasons,
metadata values), characters XML cannot hold are dropped, and every chart has a value axis with
round ticks. Label columns are as wide as the longest label (up to a cap, then the label is
shortened and the full one is in the mark's tooltip).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from html import escape

KEPT = "#2b7a4b"
REMOVED = "#c0392b"
NEUTRAL = "#4a6fa5"
FLAG = "#d35400"
GRID = "#e3e3e3"
AXIS = "#555"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
#: Width of one character as a share of the font size (a little wide for system-ui, so that an
#: estimate never undershoots and labels never collide).
CHAR_EM = 0.62
#: The widest label column, in characters; longer labels are shortened (full text in a tooltip).
MAX_LABEL_CHARS = 60

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _e(text: object) -> str:
    """``text`` as XML character data / attribute value: escaped, non-XML characters dropped."""
    return escape(_NOT_XML.sub("", str(text)), quote=True)


def _clip(text: str, n: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def text_width(text: str, size: float = 12) -> float:
    """An upper estimate of the rendered width of ``text`` in pixels."""
    return len(text) * size * CHAR_EM


def _label_width(labels: Sequence[str], *, size: float = 12) -> int:
    longest = max((len(_clip(x)) for x in labels), default=0)
    return int(max(60.0, text_width("x" * longest, size) + 12))


def nice_step(span: float, *, count: int = 5, integer: bool = False) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) that cuts ``span`` into about ``count`` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / count
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = m * mag
        if integer and step != int(step):
            continue
        if step >= raw:
            return max(step, 1.0) if integer else step
    return 10.0 * mag


def nice_ticks(vmax: float, *, count: int = 5, integer: bool = True) -> list[float]:
    """Tick values from 0 in round steps, the last at or above ``vmax``."""
    step = nice_step(vmax if vmax > 0 else 1.0, count=count, integer=integer)
    n = max(1, math.ceil(vmax / step - 1e-9))
    return [round(step * i, 10) for i in range(n + 1)]


def tick_label(v: float) -> str:
    """A short label for an axis value: 950, 1,500, 25k, 1.2M, 0.25."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:,.4g}M"
    if a >= 1e5:
        return f"{v / 1e3:,.4g}k"
    if v == int(v):
        return f"{int(v):,}"
    return f"{v:.4g}"


def pct_label(v: float) -> str:
    return f"{v:.0%}" if round(v * 100, 6) == int(round(v * 100, 6)) else f"{v:.1%}"


def _open(width: float, height: float, title: str) -> list[str]:
    w, h = math.ceil(width), math.ceil(height)
    return [
        f'<svg class="chart" role="img" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="14" font-weight="600">{_e(title)}</text>',
    ]


def _x_axis(
    x0: float, span: float, y_top: float, y_axis: float, ticks: Sequence[float], *,
    label: str, fmt: Callable[[float], str] = tick_label,
) -> list[str]:
    """Grid lines from ``y_top`` down, an axis line at ``y_axis``, tick labels and a title."""
    parts = ['<g class="axis x-axis">']
    top = ticks[-1] or 1
    for t in ticks:
        x = x0 + span * t / top
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_top:.1f}" y2="{y_axis:.1f}" '
            f'stroke="{GRID}"/>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_axis:.1f}" y2="{y_axis + 4:.1f}" '
            f'stroke="{AXIS}"/>'
            f'<text class="tick" x="{x:.1f}" y="{y_axis + 15:.1f}" text-anchor="middle" '
            f'font-size="10">{_e(fmt(t))}</text>'
        )
    parts.append(
        f'<line x1="{x0:.1f}" x2="{x0 + span:.1f}" y1="{y_axis:.1f}" y2="{y_axis:.1f}" '
        f'stroke="{AXIS}"/>'
        f'<text class="axis-label" x="{x0 + span / 2:.1f}" y="{y_axis + 29:.1f}" '
        f'text-anchor="middle" font-size="11" fill="{AXIS}">{_e(label)}</text></g>'
    )
    return parts


def hbars(
    rows: Sequence[tuple[str, float]], *, title: str, fmt: str = "{:,.0f}",
    color: str = NEUTRAL, axis_label: str = "records", span: int = 380,
) -> str:
    """Horizontal bars, one per (label, value), over a value axis with round ticks."""
    if not rows:
        return ""
    labels = [str(r[0]) for r in rows]
    label_w, bar_h, gap, top = _label_width(labels), 18, 6, 26
    vmax = max((v for _, v in rows), default=0)
    ticks = nice_ticks(vmax, integer=float(vmax).is_integer())
    scale = ticks[-1] or 1
    value_w = max(text_width(fmt.format(v)) for _, v in rows) + 12
    width = label_w + span + value_w
    y_axis = top + len(rows) * (bar_h + gap)
    height = y_axis + 36
    parts = _open(width, height, title)
    parts += _x_axis(label_w, span, top - 2, y_axis, ticks, label=axis_label)
    for i, (label, v) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(1.0, span * v / scale) if v else 0
        parts.append(
            f'<text class="label" x="{label_w - 6}" y="{y + 13}" text-anchor="end">'
            f"{_e(_clip(str(label)))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
            f"<title>{_e(label)}: {_e(fmt.format(v))}</title></rect>"
            f'<text class="value" x="{label_w + w + 4:.1f}" y="{y + 13}">'
            f"{_e(fmt.format(v))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(steps: Sequence[tuple[str, int, int]], *, span: int = 420) -> str:
    """Per step: records in (bar), of which removed (red part). (label, in, removed)."""
    if not steps:
        return ""
    label_w = _label_width([s[0] for s in steps])
    bar_h, gap, top = 20, 8, 42
    vmax = max(i for _, i, _ in steps)
    ticks = nice_ticks(vmax)
    scale = ticks[-1] or 1
    value_w = max(text_width(f"{n:,} in, {r:,} out (100.0%)") for _, n, r in steps) + 8
    width = label_w + span + value_w
    y_axis = top + len(steps) * (bar_h + gap)
    parts = _open(width, y_axis + 36, "Records in per step (red: removed by it)")
    parts[1] = "<title>Funnel: records in per step, removed part in red</title>"
    parts.append(
        f'<rect x="{label_w}" y="22" width="10" height="10" fill="{KEPT}"/>'
        f'<text x="{label_w + 14}" y="31">passed</text>'
        f'<rect x="{label_w + 70}" y="22" width="10" height="10" fill="{REMOVED}"/>'
        f'<text x="{label_w + 84}" y="31">removed</text>'
    )
    parts += _x_axis(label_w, span, top - 2, y_axis, ticks, label="records reaching the step")
    for i, (label, n_in, removed) in enumerate(steps):
        y = top + i * (bar_h + gap)
        w_in = span * n_in / scale
        w_rm = span * removed / scale
        if removed and w_rm < 1:
            w_rm = 1.0
        pct = f"{removed / n_in:.1%}" if n_in else "0%"
        parts.append(
            f'<text class="label" x="{label_w - 6}" y="{y + 14}" text-anchor="end">'
            f"{_e(_clip(label))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{max(w_in - w_rm, 0):.1f}" height="{bar_h}" '
            f'fill="{KEPT}"><title>{_e(label)}: {n_in - removed:,} passed</title></rect>'
            f'<rect x="{label_w + max(w_in - w_rm, 0):.1f}" y="{y}" width="{w_rm:.1f}" '
            f'height="{bar_h}" fill="{REMOVED}"><title>{_e(label)}: {removed:,} removed'
            f"</title></rect>"
            f'<text x="{label_w + w_in + 4:.1f}" y="{y + 14}">{n_in:,} in, {removed:,} out '
            f"({pct})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def forest(
    rows: Sequence[tuple[str, float, float, float, bool, int]],
    *,
    overall: tuple[float, float, float],
    title: str,
    span: int = 420,
) -> str:
    """Removal rate per slice with its interval, and the overall rate as a vertical line.

    rows: (label, rate, low, high, flagged, n).
    """
    if not rows:
        return ""
    label_w = _label_width([r[0] for r in rows]) + 14  # room for the flag mark
    row_h, top = 20, 30
    hi = max([r[3] for r in rows] + [overall[2]] + [0.01])
    ticks = nice_ticks(min(1.0, hi), integer=False)
    scale = ticks[-1] or 1

    def x(v: float) -> float:
        return label_w + span * v / scale

    y_axis = top + len(rows) * row_h
    width = label_w + span + 140
    parts = _open(width, y_axis + 52, title)
    parts += _x_axis(label_w, span, top - 4, y_axis, ticks, label="share removed",
                     fmt=pct_label)
    parts.append(
        f'<rect x="{x(overall[1]):.1f}" y="{top - 4}" '
        f'width="{max(x(overall[2]) - x(overall[1]), 1):.1f}" '
        f'height="{len(rows) * row_h}" fill="#999" opacity="0.2"/>'
        f'<line x1="{x(overall[0]):.1f}" x2="{x(overall[0]):.1f}" y1="{top - 6}" '
        f'y2="{y_axis}" stroke="#333" stroke-dasharray="4 3"/>'
        f'<text x="{x(overall[0]):.1f}" y="{y_axis + 46}" text-anchor="middle">'
        f"overall {overall[0]:.1%}</text>"
    )
    for i, (label, rate, low, high, flagged, n) in enumerate(rows):
        y = top + 6 + i * row_h
        color = FLAG if flagged else NEUTRAL
        mark = " ⚑" if flagged else ""
        weight = ' font-weight="700"' if flagged else ""
        parts.append(
            f'<text class="label" x="{label_w - 6}" y="{y + 4}" text-anchor="end"'
            f"{weight}>{_e(_clip(label))}{mark}</text>"
            f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{y}" y2="{y}" stroke="{color}" '
            'stroke-width="2"/>'
            f'<circle cx="{x(rate):.1f}" cy="{y}" r="4" fill="{color}">'
            f"<title>{_e(label)}: {rate:.2%} [{low:.2%}, {high:.2%}] of {n:,}</title></circle>"
            f'<text x="{width - 130}" y="{y + 4}">{rate:.1%} of {n:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _x_labels(bins: Sequence[str], group_w: float, size: float) -> tuple[int, bool]:
    """How to show bin labels without overlap: every ``k``-th one, rotated or not."""
    widest = max((text_width(b, size) for b in bins), default=0)
    if widest + 4 <= group_w:
        return 1, False
    # rotated 45°, neighbouring labels need about 1.6 line heights between their anchors
    return max(1, math.ceil(size * 1.6 / group_w)), True


def histogram(
    bins: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], *, title: str,
    width: int = 720, y_label: str = "records", x_label: str = "",
) -> str:
    """Grouped vertical bars: one group per bin, one bar per (name, color, counts) series,
    over a value axis with round ticks; bin labels thinned and rotated when they would touch."""
    if not bins:
        return ""
    size = 10.0
    vmax = max((v for _, _, vals in series for v in vals), default=0)
    ticks = nice_ticks(vmax)
    scale = ticks[-1] or 1
    left = int(text_width(tick_label(ticks[-1]), size) + 26)
    top, plot_h = 40, 150
    group_w = (width - left - 10) / len(bins)
    every, rotated = _x_labels(bins, group_w, size)
    label_h = (max(text_width(b, size) for b in bins) * 0.71 + 8) if rotated else 14.0
    bottom = label_h + (30 if x_label else 14)
    height = top + plot_h + bottom
    bar_w = max(2.0, (group_w - 4) / max(1, len(series)))
    y0 = top + plot_h
    parts = _open(width, height, title)
    lx = left
    for name, color, _ in series:
        parts.append(f'<rect x="{lx}" y="22" width="10" height="10" fill="{color}"/>'
                     f'<text x="{lx + 14}" y="31">{_e(name)}</text>')
        lx += 24 + int(text_width(name))
    parts.append('<g class="axis y-axis">')
    for t in ticks:
        y = y0 - plot_h * t / scale
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<line x1="{left - 4}" x2="{left}" y1="{y:.1f}" y2="{y:.1f}" stroke="{AXIS}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 3.5:.1f}" text-anchor="end" '
            f'font-size="{size:g}">{_e(tick_label(t))}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{y0}" stroke="{AXIS}"/>'
        f'<text class="axis-label" transform="translate(11 {top + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" font-size="11" fill="{AXIS}">{_e(y_label)}</text></g>'
    )
    for i, b in enumerate(bins):
        gx = left + i * group_w
        for j, (name, color, vals) in enumerate(series):
            v = vals[i]
            h = plot_h * v / scale
            parts.append(
                f'<rect x="{gx + 2 + j * bar_w:.1f}" y="{y0 - h:.1f}" '
                f'width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{_e(name)} {_e(b)}: {v:,}</title></rect>'
            )
        if i % every:
            continue
        cx = gx + group_w / 2
        if rotated:
            parts.append(
                f'<text class="xtick" transform="translate({cx + 3:.1f} {y0 + 10:.1f}) '
                f'rotate(-45)" text-anchor="end" font-size="{size:g}">{_e(b)}</text>'
            )
        else:
            parts.append(
                f'<text class="xtick" x="{cx:.1f}" y="{y0 + 13:.1f}" text-anchor="middle" '
                f'font-size="{size:g}">{_e(b)}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{width - 10}" y1="{y0}" y2="{y0}" stroke="{AXIS}"/>'
    )
    if x_label:
        parts.append(
            f'<text class="axis-label" x="{left + (width - left - 10) / 2:.1f}" '
            f'y="{height - 6:.1f}" text-anchor="middle" font-size="11" fill="{AXIS}">'
            f"{_e(x_label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
