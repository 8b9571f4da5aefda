"""Small inline SVG charts for the report: no JavaScript, no external files.

This module computes each chart's geometry (plain numbers) and labels; the markup is the shared
template ``audit/charts.svg.html`` (:mod:`datasteward.html`, autoescaped). Every label is
escaped for XML there (labels come from the data: domains, sources, reasons, metadata values);
characters XML cannot hold are dropped here first. Every chart has a value axis with
round ticks. Label columns are as wide as the longest label (up to a cap, then the label is
shortened and the full one is in the mark's tooltip).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

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


def _x(text: object) -> str:
    """``text`` without the characters XML cannot hold (the template escapes the rest)."""
    return _NOT_XML.sub("", str(text))


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


@lru_cache(maxsize=1)
def _charts() -> Any:
    from datasteward.html import environment

    template = environment().get_template("audit/charts.svg.html")
    return template.make_module({"grid": GRID, "axis": AXIS, "kept": KEPT, "removed": REMOVED})


def _size(width: float, height: float) -> dict[str, int]:
    return {"w": math.ceil(width), "h": math.ceil(height)}


def _x_axis(
    x0: float,
    span: float,
    y_top: float,
    y_axis: float,
    ticks: Sequence[float],
    *,
    label: str,
    fmt: Callable[[float], str] = tick_label,
) -> dict[str, Any]:
    """Grid lines from ``y_top`` down, an axis line at ``y_axis``, tick labels and a title."""
    return {
        "x0": x0, "span": span, "y_top": y_top, "y_axis": y_axis, "top": ticks[-1] or 1,
        "ticks": [(t, _x(fmt(t))) for t in ticks], "label": _x(label),
    }  # fmt: skip


def hbars(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    fmt: str = "{:,.0f}",
    color: str = NEUTRAL,
    axis_label: str = "records",
    span: int = 380,
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
    chart = {
        **_size(width, y_axis + 36), "title": _x(title), "label_w": label_w, "bar_h": bar_h,
        "color": color, "axis": _x_axis(label_w, span, top - 2, y_axis, ticks, label=axis_label),
        "rows": [
            {"y": top + i * (bar_h + gap), "w": max(1.0, span * v / scale) if v else 0,
             "short": _x(_clip(str(label))), "label": _x(label), "value": _x(fmt.format(v))}
            for i, (label, v) in enumerate(rows)
        ],
    }  # fmt: skip
    return str(_charts().hbars(chart))


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
    rows = []
    for i, (label, n_in, removed) in enumerate(steps):
        w_in = span * n_in / scale
        w_rm = span * removed / scale
        if removed and w_rm < 1:
            w_rm = 1.0
        rows.append({
            "y": top + i * (bar_h + gap), "w_in": w_in, "w_rm": w_rm,
            "w_pass": max(w_in - w_rm, 0), "n_in": n_in, "n_removed": removed,
            "pct": f"{removed / n_in:.1%}" if n_in else "0%",
            "short": _x(_clip(label)), "label": _x(label),
        })  # fmt: skip
    chart = {
        **_size(width, y_axis + 36), "label_w": label_w, "bar_h": bar_h, "rows": rows,
        "axis": _x_axis(label_w, span, top - 2, y_axis, ticks, label="records reaching the step"),
    }  # fmt: skip
    return str(_charts().funnel(chart))


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
    chart = {
        **_size(width, y_axis + 52), "title": _x(title), "label_w": label_w, "width": width,
        "top": top, "y_axis": y_axis,
        "axis": _x_axis(label_w, span, top - 4, y_axis, ticks, label="share removed",
                        fmt=pct_label),
        "band_x": x(overall[1]), "band_w": max(x(overall[2]) - x(overall[1]), 1),
        "band_h": len(rows) * row_h, "overall_x": x(overall[0]), "overall": overall[0],
        "rows": [
            {"y": top + 6 + i * row_h, "color": FLAG if flagged else NEUTRAL,
             "flagged": flagged, "short": _x(_clip(label)), "label": _x(label),
             "x_low": x(low), "x_high": x(high), "x_rate": x(rate),
             "rate": rate, "low": low, "high": high, "n": n}
            for i, (label, rate, low, high, flagged, n) in enumerate(rows)
        ],
    }  # fmt: skip
    return str(_charts().forest(chart))


def _x_labels(bins: Sequence[str], group_w: float, size: float) -> tuple[int, bool]:
    """How to show bin labels without overlap: every ``k``-th one, rotated or not."""
    widest = max((text_width(b, size) for b in bins), default=0)
    if widest + 4 <= group_w:
        return 1, False
    # rotated 45°, neighbouring labels need about 1.6 line heights between their anchors
    return max(1, math.ceil(size * 1.6 / group_w)), True


def histogram(
    bins: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    title: str,
    width: int = 720,
    y_label: str = "records",
    x_label: str = "",
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
    legend = []
    lx = left
    for name, color, _ in series:
        legend.append((lx, _x(name), color))
        lx += 24 + int(text_width(name))
    groups = []
    for i, b in enumerate(bins):
        gx = left + i * group_w
        groups.append({
            "label": _x(b), "cx": gx + group_w / 2, "show": not i % every,
            "bars": [{"x": gx + 2 + j * bar_w, "h": plot_h * vals[i] / scale, "v": vals[i],
                      "color": color, "name": _x(name)}
                     for j, (name, color, vals) in enumerate(series)],
        })  # fmt: skip
    chart = {
        **_size(width, height), "title": _x(title), "legend": legend, "left": left,
        "width": width, "height": height, "size": f"{size:g}", "top": top, "plot_h": plot_h,
        "y0": y0, "bar_w": bar_w, "rotated": rotated, "groups": groups,
        "ticks": [(y0 - plot_h * t / scale, _x(tick_label(t))) for t in ticks],
        "y_label": _x(y_label), "x_label": _x(x_label),
    }  # fmt: skip
    return str(_charts().histogram(chart))
