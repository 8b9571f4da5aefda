"""Small inline SVG charts for the report: no JavaScript, no external files.

Every label is escaped (labels come from the data: domains, sources, reasons).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

KEPT = "#2b7a4b"
REMOVED = "#c0392b"
NEUTRAL = "#4a6fa5"
FLAG = "#d35400"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _clip(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def hbars(
    rows: Sequence[tuple[str, float]], *, title: str, width: int = 640, fmt: str = "{:,.0f}",
    color: str = NEUTRAL,
) -> str:
    """Horizontal bars, one per (label, value)."""
    if not rows:
        return ""
    label_w, bar_h, gap = 230, 18, 6
    height = 28 + len(rows) * (bar_h + gap)
    vmax = max((v for _, v in rows), default=0) or 1
    span = width - label_w - 90
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="14" font-weight="600">{_e(title)}</text>',
    ]
    for i, (label, v) in enumerate(rows):
        y = 26 + i * (bar_h + gap)
        w = max(1.0, span * v / vmax) if v else 0
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_e(_clip(label))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
            f"<title>{_e(label)}: {_e(fmt.format(v))}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{_e(fmt.format(v))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(steps: Sequence[tuple[str, int, int]], *, width: int = 720) -> str:
    """Per step: records in (bar), of which removed (red part). (label, in, removed)."""
    if not steps:
        return ""
    label_w, bar_h, gap = 230, 20, 8
    height = 46 + len(steps) * (bar_h + gap)
    vmax = max(i for _, i, _ in steps) or 1
    span = width - label_w - 150
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
        "<title>Funnel: records in per step, removed part in red</title>",
        '<text x="0" y="14" font-weight="600">Records in per step (red: removed by it)</text>',
        f'<rect x="{label_w}" y="22" width="10" height="10" fill="{KEPT}"/>'
        f'<text x="{label_w + 14}" y="31">passed</text>'
        f'<rect x="{label_w + 70}" y="22" width="10" height="10" fill="{REMOVED}"/>'
        f'<text x="{label_w + 84}" y="31">removed</text>',
    ]
    for i, (label, n_in, removed) in enumerate(steps):
        y = 42 + i * (bar_h + gap)
        w_in = span * n_in / vmax
        w_rm = span * removed / vmax
        if removed and w_rm < 1:
            w_rm = 1.0
        pct = f"{removed / n_in:.1%}" if n_in else "0%"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(_clip(label))}</text>'
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
    width: int = 720,
) -> str:
    """Removal rate per slice with its interval, and the overall rate as a vertical line.

    rows: (label, rate, low, high, flagged, n).
    """
    if not rows:
        return ""
    label_w, row_h = 230, 20
    plot_w = width - label_w - 150
    height = 40 + len(rows) * row_h + 20
    hi = max([r[3] for r in rows] + [overall[2]] + [0.01])
    hi = min(1.0, hi * 1.05)

    def x(v: float) -> float:
        return label_w + plot_w * v / hi

    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="14" font-weight="600">{_e(title)}</text>',
        f'<rect x="{x(overall[1]):.1f}" y="26" width="{max(x(overall[2]) - x(overall[1]), 1):.1f}" '
        f'height="{len(rows) * row_h}" fill="#999" opacity="0.2"/>',
        f'<line x1="{x(overall[0]):.1f}" x2="{x(overall[0]):.1f}" y1="24" '
        f'y2="{28 + len(rows) * row_h}" stroke="#333" stroke-dasharray="4 3"/>',
        f'<text x="{x(overall[0]):.1f}" y="{42 + len(rows) * row_h}" text-anchor="middle">'
        f"overall {overall[0]:.1%}</text>",
    ]
    for i, (label, rate, low, high, flagged, n) in enumerate(rows):
        y = 36 + i * row_h
        color = FLAG if flagged else NEUTRAL
        mark = " ⚑" if flagged else ""
        weight = ' font-weight="700"' if flagged else ""
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 4}" text-anchor="end"'
            f'{weight}>{_e(_clip(label))}{mark}</text>'
            f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{y}" y2="{y}" stroke="{color}" '
            'stroke-width="2"/>'
            f'<circle cx="{x(rate):.1f}" cy="{y}" r="4" fill="{color}">'
            f"<title>{_e(label)}: {rate:.2%} [{low:.2%}, {high:.2%}] of {n:,}</title></circle>"
            f'<text x="{width - 140}" y="{y + 4}">{rate:.1%} of {n:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    bins: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], *, title: str,
    width: int = 720,
) -> str:
    """Grouped vertical bars: one group per bin, one bar per (name, color, counts) series."""
    if not bins:
        return ""
    height, top, bottom, left = 220, 40, 40, 50
    plot_h = height - top - bottom
    group_w = (width - left - 10) / len(bins)
    bar_w = max(2.0, (group_w - 4) / max(1, len(series)))
    vmax = max((v for _, _, vals in series for v in vals), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="14" font-weight="600">{_e(title)}</text>',
    ]
    lx = left
    for name, color, _ in series:
        parts.append(f'<rect x="{lx}" y="22" width="10" height="10" fill="{color}"/>'
                     f'<text x="{lx + 14}" y="31">{_e(name)}</text>')
        lx += 20 + 8 * len(name)
    for i, b in enumerate(bins):
        gx = left + i * group_w
        for j, (name, color, vals) in enumerate(series):
            v = vals[i]
            h = plot_h * v / vmax
            parts.append(
                f'<rect x="{gx + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{_e(name)} {_e(b)}: {v:,}</title></rect>'
            )
        parts.append(
            f'<text x="{gx + group_w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10">{_e(b)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - 10}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#333"/>'
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">{vmax:,}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
