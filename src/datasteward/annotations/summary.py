"""What the release documents say about the annotations: measured from the recipe's
``[[annotations]]`` label files and ``[labour]`` table, never typed in.

``rai_fields`` gives the Croissant RAI annotation properties (``rai:dataAnnotationProtocol``,
``rai:dataAnnotationPlatform``, ``rai:annotationsPerItem``, ``rai:dataAnnotationAnalysis``);
the datasheet's collection and labelling answers use the same ``Measured`` figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.annotations import agreement as ag
from datasteward.annotations.decision import read_table
from datasteward.annotations.labour import Labour, LabourOptions, labour
from datasteward.annotations.matrix import encode
from datasteward.recipe.model import Recipe


@dataclass(frozen=True)
class Measured:
    name: str
    method: str
    level: str
    quarantined: int
    alpha: ag.Interval
    fleiss_kappa: float | None
    labour: Labour


def measure(recipe: Recipe, base: Path, *, resamples: int = 200) -> list[Measured]:
    """``base``: the folder the label file paths are relative to (the project)."""
    out = []
    lab = recipe.labour
    opts = LabourOptions(
        platform=lab.platform,
        pay_scheme=lab.pay_scheme,
        minimum_hourly_wage=lab.minimum_hourly_wage,
        currency=lab.currency,
        instructions=lab.instructions,
    )
    for cfg in recipe.annotations:
        ls = read_table(cfg, base)
        coded = encode(ls.items, ls.annotators, [str(x) for x in ls.labels])
        if cfg.level != "nominal":
            coded = encode(ls.items, ls.annotators, ls.labels)
        out.append(
            Measured(
                cfg.name,
                cfg.method,
                cfg.level,
                len(ls.quarantined),
                ag.alpha_interval(coded, cfg.level, resamples=resamples),
                ag.fleiss_kappa(coded) if cfg.level == "nominal" else None,
                labour(ls.items, ls.annotators, ls.extra.get("time_s"), ls.extra.get("pay"), opts),
            )
        )
    return out


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def describe(m: Measured) -> dict[str, str]:
    lab = m.labour
    o = lab.options
    pay = ""
    if lab.hourly_pay_median is not None:
        pay = (
            f"; effective hourly pay median {lab.hourly_pay_median:.2f} {o.currency}, "
            f"10th percentile {_f(lab.hourly_pay_p10, 2)} {o.currency}"
        )
        if o.minimum_hourly_wage is not None:
            pay += (
                f" (declared minimum {o.minimum_hourly_wage:.2f}; "
                f"{lab.below_minimum} of the paid annotators below it)"
            )
    hours = f", {lab.hours:.1f} hours recorded" if lab.hours is not None else ""
    protocol = (
        f"{m.name}: {lab.labels} labels on {lab.items} items by {lab.people} annotators "
        f"(ids pseudonymised){hours}; aggregated into one label per item by {m.method}"
        + (f"; pay scheme: {o.pay_scheme}" if o.pay_scheme else "")
        + (f"; instructions: {o.instructions}" if o.instructions else "")
        + pay
        + f"; the top decile of annotators made {lab.top_decile_share:.0%} of the labels"
    )
    a = m.alpha
    analysis = (
        f"{m.name}: Krippendorff's alpha ({m.level}) {_f(a.value)} "
        f"[{_f(a.low)}, {_f(a.high)}] (95% bootstrap over items, {a.resamples} resamples)"
        + (f"; Fleiss' kappa {_f(m.fleiss_kappa)}" if m.fleiss_kappa is not None else "")
        + f"; {m.quarantined} label rows quarantined"
    )
    per_item = (
        f"{m.name}: mean {lab.labels_per_item_mean:.2f} "
        f"(min {lab.labels_per_item_min}, max {lab.labels_per_item_max})"
    )
    return {"protocol": protocol, "analysis": analysis, "per_item": per_item}


_CACHE: dict[tuple[str, str, str], list[dict[str, str]]] = {}


def measure_cached(recipe: Recipe, base: Path) -> list[dict[str, str]]:
    """``describe`` of every ``[[annotations]]`` table, measured once per recipe and project
    (the datasheet and the Croissant of one release share it)."""
    stamps = []
    for cfg in recipe.annotations:
        for f in cfg.files:
            st = (base / f).stat() if (base / f).exists() else None
            stamps.append(f"{f}:{st.st_mtime_ns}:{st.st_size}" if st else f"{f}:-")
    key = (recipe.hash, str(base.resolve()), "|".join(stamps))
    if key not in _CACHE:
        _CACHE[key] = [describe(m) for m in measure(recipe, base)]
    return _CACHE[key]


def rai_fields(recipe: Recipe, base: Path) -> dict[str, Any]:
    """Croissant RAI annotation properties, measured; {} without ``[[annotations]]``."""
    if not recipe.annotations:
        return {}
    parts = measure_cached(recipe, base)
    out: dict[str, Any] = {
        "rai:dataAnnotationProtocol": " | ".join(p["protocol"] for p in parts),
        "rai:dataAnnotationAnalysis": " | ".join(p["analysis"] for p in parts),
        "rai:annotationsPerItem": " | ".join(p["per_item"] for p in parts),
    }
    if recipe.labour.platform:
        out["rai:dataAnnotationPlatform"] = recipe.labour.platform
    return out
