"""``[[annotations]]``, ``[labour]`` and ``[representation]``: the label files of a project,
the labour behind them, and the shares the dataset is meant to have. E.g.::

    [[annotations]]
    name = "sentiment"
    files = ["labels/round1.csv", "labels/round2.jsonl"]
    item_field = "record_id"
    annotator_field = "worker"
    label_field = "label"
    label_space = ["neg", "neu", "pos"]
    level = "nominal"            # ordinal | interval | ratio
    method = "ds"                # mv | ds | glad | mace | mean | median
    time_field = "seconds"
    pay_field = "usd"

    [labour]
    platform = "Prolific"
    pay_scheme = "per item"
    minimum_hourly_wage = 12.0
    currency = "GBP"
    instructions = "labels/instructions.md"

    [representation.language]
    en = { share = 0.5, tolerance = 0.05 }
    de = 0.25                    # tolerance 0.05
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from datasteward.recipe._typed import build
from datasteward.recipe._where import Where


@dataclass(frozen=True, kw_only=True)
class AnnotationsConfig:
    """One ``[[annotations]]`` table."""

    name: str
    #: Label files, relative to the recipe (CSV, TSV, JSONL, Parquet).
    files: tuple[str, ...] = ()
    item_field: str = "item"
    annotator_field: str = "annotator"
    label_field: str = "label"
    time_field: str | None = None
    pay_field: str | None = None
    timestamp_field: str | None = None
    round_field: str | None = None
    #: The allowed labels (empty: any); labels outside it are quarantined.
    label_space: tuple[Any, ...] = ()
    level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal"
    method: Literal["mv", "ds", "glad", "mace", "mean", "median"] = "ds"
    where: str = ""


@dataclass(frozen=True, kw_only=True)
class LabourTable:
    """``[labour]``: declared, not measured (the measured figures come from the files)."""

    platform: str | None = None
    pay_scheme: str | None = None
    minimum_hourly_wage: float | None = None
    currency: str = "USD"
    instructions: str | None = None


@dataclass(frozen=True)
class RepresentationTable:
    """``[representation.<slice>]``: value -> (target share, tolerance)."""

    targets: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)


def parse_annotations(w: Where, raw: Any) -> tuple[AnnotationsConfig, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise w.err("`annotations` must be an array of tables ([[annotations]])", key="annotations")
    out: list[AnnotationsConfig] = []
    for i, entry in enumerate(raw):
        label = f"[[annotations]] `{entry.get('name', f'#{i + 1}')}`"
        cfg = build(
            AnnotationsConfig,
            entry,
            w,
            table="annotations",
            index=i,
            label=label,
            extra={"where": w.at("annotations", i)},
        )
        if not cfg.name or cfg.name in {c.name for c in out}:
            raise w.err(
                f"annotations name {cfg.name!r} must be unique and non-empty",
                table="annotations",
                index=i,
                key="name",
            )
        if not cfg.files:
            raise w.err(
                f"{label} has no `files`",
                table="annotations",
                index=i,
                key="files",
                hint='add files = ["labels.csv"]',
            )
        out.append(cfg)
    return tuple(out)


def parse_labour(w: Where, raw: Any) -> LabourTable:
    if raw is None:
        return LabourTable()
    if not isinstance(raw, dict):
        raise w.err("`labour` must be a table ([labour])", key="labour")
    return build(LabourTable, raw, w, table="labour")


def parse_representation(w: Where, raw: Any) -> RepresentationTable:
    if raw is None:
        return RepresentationTable()
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise w.err(
            "`representation` must hold one table per slice ([representation.language])",
            key="representation",
        )
    targets: dict[str, dict[str, tuple[float, float]]] = {}
    for slice_name, values in raw.items():
        for value, spec in values.items():
            share, tol = (
                (spec, 0.05)
                if not isinstance(spec, dict)
                else (
                    spec.get("share"),
                    spec.get("tolerance", 0.05),
                )
            )
            ok = all(isinstance(x, int | float) and 0 <= x <= 1 for x in (share, tol))
            if not ok or set(spec if isinstance(spec, dict) else ()) - {"share", "tolerance"}:
                raise w.err(
                    f"[representation.{slice_name}] `{value}` must be a share in [0, 1] or "
                    f"{{ share = S, tolerance = T }}, got {spec!r}",
                    table=f"representation.{slice_name}",
                    key=value,
                )
            targets.setdefault(slice_name, {})[value] = (float(share or 0.0), float(tol or 0.0))
    return RepresentationTable(targets)
