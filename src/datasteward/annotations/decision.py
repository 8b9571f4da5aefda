"""The aggregation decision of an ``[[annotations]]`` table, recorded in the ledger.

``annotations aggregate --table NAME --decide-by WHO`` aggregates the table's label files and
records, as one steward's decision in the hash-chained ledger, the method and its parameters,
the sha256 of every label file and of the aggregate itself, which is kept as
``.datasteward/aggregates/<table>-<sha256>.parquet`` (``item, label, confidence``). A
release joins the latest such decision's aggregate onto its records
(:mod:`datasteward.release.build.labels`), after :func:`stale_reasons` has checked that the
label files, the recipe's method and the aggregate are still the ones decided on.

The decision's rationale ends with one machine-readable line, ``aggregation: {json}``: the
ledger has no other place for structured parameters, and the line is part of the hashed
event, so the parameters a release used cannot be changed unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datasteward.annotations.aggregate import Aggregate, AggregateOptions
from datasteward.annotations.labels import LabelColumns, LabelSet, read_labels
from datasteward.annotations.matrix import Coded, encode
from datasteward.errors import RecipeError
from datasteward.recipe.annotations import AnnotationsConfig
from datasteward.recipe.model import Recipe

#: Where recorded aggregates are kept, relative to the project.
AGGREGATES_DIR = Path(".datasteward") / "aggregates"
#: The decision titles of aggregations start so; the rationale's last line starts with MARK.
TITLE = "Aggregate annotations"
MARK = "aggregation: "


@dataclass(frozen=True)
class AggregationSpec:
    """What was decided: the table, the method and its parameters, the inputs and output."""

    table: str
    method: str
    engine: str
    n_iter: int
    seed: int
    #: label file (as the recipe names it, relative to the project) -> sha256
    files: dict[str, str]
    #: the source whose ids the label items are (record id ``<source>:<item>``), if any
    source: str | None
    #: the aggregate (``item, label, confidence``), relative to the project, and its sha256
    aggregate: str
    aggregate_sha256: str
    items: int
    #: how the table read the files (columns, label space, level): see :func:`reading`
    reading: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return MARK + json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_rationale(cls, rationale: str) -> AggregationSpec | None:
        last = rationale.strip().splitlines()[-1] if rationale.strip() else ""
        if not last.startswith(MARK):
            return None
        try:
            raw = json.loads(last[len(MARK) :])
            return cls(**raw)
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class RecordedAggregation:
    decision_id: int
    decided_by: str
    decided_at: str
    spec: AggregationSpec


def reading(cfg: AnnotationsConfig) -> dict[str, Any]:
    """What of a table decides how its files read into labels."""
    return {
        "item_field": cfg.item_field,
        "annotator_field": cfg.annotator_field,
        "label_field": cfg.label_field,
        "label_space": [str(x) for x in cfg.label_space],
        "level": cfg.level,
    }


def table_config(recipe: Recipe, name: str | None) -> AnnotationsConfig:
    """The ``[[annotations]]`` table ``name`` (None: the recipe's only one)."""
    tables = {a.name: a for a in recipe.annotations}
    if name is None and len(tables) == 1:
        return next(iter(tables.values()))
    if name is None or name not in tables:
        raise RecipeError(
            f"{recipe.path}: no [[annotations]] table named {name!r}"
            if name is not None
            else f"{recipe.path}: {len(tables)} [[annotations]] tables, which one?",
            hint=f"pass --table with one of: {', '.join(tables) or '(none: add one)'}",
        )
    return tables[name]


def read_table(cfg: AnnotationsConfig, project: Path) -> LabelSet:
    """The labels of a table, read as the release documents measure them (label space,
    numeric levels); quarantined rows are in the result, not dropped silently."""
    cols = LabelColumns(
        item=cfg.item_field,
        annotator=cfg.annotator_field,
        label=cfg.label_field,
        time_s=cfg.time_field,
        pay=cfg.pay_field,
        timestamp=cfg.timestamp_field,
        round=cfg.round_field,
    )
    return read_labels(
        [project / f for f in cfg.files],
        cols,
        label_space=cfg.label_space or None,
        numeric=cfg.level != "nominal",
    )


def coded_labels(ls: LabelSet, key: bytes) -> Coded:
    """Pseudonymised annotators; labels as integers when every label is one."""
    from datasteward.annotations.pseudonymise import pseudonymise

    labels = ls.labels
    if all(isinstance(x, str) for x in labels):
        try:
            labels = [int(x) for x in labels]
        except ValueError:
            pass
    return encode(ls.items, pseudonymise(ls.annotators, key), labels)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _label_array(labels: list[Any]) -> Any:
    import pyarrow as pa

    plain = [x.item() if hasattr(x, "item") else x for x in labels]
    if all(isinstance(x, int) and not isinstance(x, bool) for x in plain):
        return pa.array(plain, pa.int64())
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in plain):
        return pa.array([float(x) for x in plain], pa.float64())
    return pa.array([str(x) for x in plain], pa.string())


def write_aggregate(project: Path, table: str, agg: Aggregate) -> tuple[str, str]:
    """Keep the aggregate as ``.datasteward/aggregates/<table>-<sha256>.parquet``; returns
    (path relative to the project, sha256)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = project / AGGREGATES_DIR
    out.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", table)  # a file name, whatever the table name
    tmp = out / f".{safe}-{os.getpid()}.parquet"
    pq.write_table(
        pa.table(
            {
                "item": pa.array([str(i) for i in agg.items], pa.string()),
                "label": _label_array(list(agg.labels)),
                "confidence": pa.array([float(c) for c in agg.confidence], pa.float64()),
            }
        ),
        tmp,
    )
    digest = sha256_file(tmp)
    rel = AGGREGATES_DIR / f"{safe}-{digest}.parquet"
    tmp.replace(project / rel)
    return rel.as_posix(), digest


def record_aggregation(
    project: Path,
    cfg: AnnotationsConfig,
    agg: Aggregate,
    options: AggregateOptions,
    *,
    by: str,
    source: str | None,
    recipe_hash: str | None,
) -> RecordedAggregation:
    """Keep the aggregate and record the decision (method, parameters, sha256 of the label
    files and of the aggregate) in the ledger."""
    from datasteward.ledger import Ledger

    rel, digest = write_aggregate(project, cfg.name, agg)
    spec = AggregationSpec(
        table=cfg.name,
        method=options.method,
        engine=options.engine,
        n_iter=options.n_iter,
        seed=options.seed,
        files={f: sha256_file(project / f) for f in cfg.files},
        source=source,
        aggregate=rel,
        aggregate_sha256=digest,
        items=len(agg.items),
        reading=reading(cfg),
    )
    low = sum(1 for c in agg.confidence if c < 0.5)
    with Ledger.open(project) as ledger:
        d = ledger.record_decision(
            title=f"{TITLE} `{cfg.name}` with {options.method}",
            rationale=(
                f"{len(agg.items)} items of [[annotations]] `{cfg.name}` "
                f"({', '.join(cfg.files)}); {low} items with confidence under 0.5\n" + spec.line()
            ),
            tradeoff=None,
            by=by,
            recipe_hash=recipe_hash,
        )
    return RecordedAggregation(int(d.decision_id), d.by, d.decided_at.isoformat(), spec)


def latest_aggregation(project: Path, table: str) -> RecordedAggregation | None:
    """The newest recorded aggregation decision for ``table`` (None: never decided)."""
    from datasteward.ledger import Ledger

    with Ledger.open(project, read_only=True) as ledger:
        decisions = ledger.list_decisions()
    for d in reversed(decisions):
        if not d.title.startswith(TITLE):
            continue
        spec = AggregationSpec.from_rationale(d.rationale)
        if spec is not None and spec.table == table:
            return RecordedAggregation(int(d.decision_id), d.by, d.decided_at.isoformat(), spec)
    return None


def stale_reasons(project: Path, rec: RecordedAggregation, cfg: AnnotationsConfig) -> list[str]:
    """Why the recorded aggregation no longer fits the table (empty: it does): a label file
    added, removed or changed since, another method in the recipe, the aggregate altered."""
    spec = rec.spec
    out = []
    if set(cfg.files) != set(spec.files):
        out.append(
            f"the recipe's label files are {sorted(cfg.files)}, "
            f"the decision aggregated {sorted(spec.files)}"
        )
    for f, digest in sorted(spec.files.items()):
        path = project / f
        if not path.is_file():
            out.append(f"{f} is gone")
        elif (now := sha256_file(path)) != digest:
            out.append(f"{f} changed (sha256 {digest[:12]}... then, {now[:12]}... now)")
    now_reading = reading(cfg)
    changed = [k for k, v in spec.reading.items() if now_reading.get(k) != v]
    if changed:
        out.append(f"the recipe reads the files differently now ({', '.join(changed)})")
    if cfg.method != spec.method:
        out.append(f"the recipe says method = {cfg.method!r}, the decision chose {spec.method!r}")
    agg = project / spec.aggregate
    if not agg.is_file():
        out.append(f"the aggregate {spec.aggregate} is gone")
    elif sha256_file(agg) != spec.aggregate_sha256:
        out.append(f"the aggregate {spec.aggregate} was altered")
    return out
