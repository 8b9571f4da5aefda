"""The aggregate crowd label of each record, joined by the release.

For each ``[[annotations]]`` table of the run's recipe, the newest aggregation decision in the
ledger (``annotations aggregate --table NAME --decide-by WHO``,
:mod:`datasteward.annotations.decision`) names the aggregate to join: each released record
whose id is a label item (or ``<source>:<item>`` when the decision named a source; the exact
id first) gets the item's label, its confidence and the method; other records get nulls.
Columns: ``records.schema.label_columns``.

The join is done here, once, because the label is a decision over signals: the label files
are measured, the stewards choose the method (recorded with its parameters and the sha256 of
the files), and the immutable release freezes that choice. A run step would tie the labels
to a re-run of the whole recipe; the release re-aggregates nothing, it refuses when the label
files, the recipe's method or the kept aggregate differ from what was decided.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import ReleaseError
from datasteward.recipe.model import Recipe
from datasteward.records.schema import ID, label_columns


@dataclass(frozen=True)
class _Joined:
    keys: pa.Array  # record ids, unique
    label: pa.Array  # aligned with keys
    confidence: pa.Array
    method: pa.Array
    fields: tuple[pa.Field, pa.Field, pa.Field]


@dataclass(frozen=True)
class LabelJoin:
    """The label columns a release adds, and how to fill them batch by batch."""

    tables: tuple[_Joined, ...]
    #: one line per joined table: what was joined, by which decision
    notes: tuple[str, ...]
    #: tables with no recorded decision, and how to record one (the release's warnings)
    warnings: tuple[str, ...] = ()

    def schema(self, base: pa.Schema) -> pa.Schema:
        for t in self.tables:
            for f in t.fields:
                base = base.append(f)
        return base

    def apply(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """``batches`` with the label columns appended (the shard writer casts them to
        :meth:`schema`'s types by name)."""
        for batch in batches:
            if not self.tables:
                yield batch
                continue
            ids = batch.column(batch.schema.get_field_index(ID))
            if ids.type != pa.string():  # e.g. large_string: compared as the keys are
                ids = ids.cast(pa.string())
            cols = list(batch.columns)
            names = list(batch.schema.names)
            for t in self.tables:
                idx = pc.index_in(ids, value_set=t.keys)
                cols += [t.label.take(idx), t.confidence.take(idx), t.method.take(idx)]
                names += [f.name for f in t.fields]
            yield pa.RecordBatch.from_arrays(cols, names=names)


def _keys(items: list[str], source: str | None) -> tuple[list[str], list[int]]:
    """Record id -> row of the aggregate: ``<source>:<item>`` first, the exact id over it."""
    out: dict[str, int] = {}
    if source:
        for i, item in enumerate(items):
            out[f"{source}:{item}"] = i
    for i, item in enumerate(items):
        out[item] = i
    return list(out), list(out.values())


def plan_labels(project: Path, recipe: Recipe | None, schema: pa.Schema) -> LabelJoin:
    """The label columns of a release of a run made with ``recipe``; raises ReleaseError
    when a recorded aggregation no longer fits its table. A table without a recorded
    decision adds no columns (a note says how to record one)."""
    if recipe is None or not recipe.annotations:
        return LabelJoin((), ())
    import pyarrow.parquet as pq

    from datasteward.annotations.decision import latest_aggregation, stale_reasons

    several = len(recipe.annotations) > 1
    tables: list[_Joined] = []
    notes: list[str] = []
    warnings: list[str] = []
    for cfg in recipe.annotations:
        rec = latest_aggregation(project, cfg.name)
        fix = f"`datasteward annotations aggregate --table {cfg.name} --decide-by NAME`"
        if rec is None:
            warnings.append(
                f"[[annotations]] `{cfg.name}`: no aggregation decision recorded, so the "
                f"records carry no label; record one with {fix}"
            )
            continue
        stale = stale_reasons(project, rec, cfg)
        if stale:
            raise ReleaseError(
                f"[[annotations]] `{cfg.name}`: the labels changed since aggregation decision "
                f"#{rec.decision_id} ({'; '.join(stale)})",
                hint=f"re-run {fix} (with the recipe's method) and release again",
            )
        names = label_columns(cfg.name if several else None)
        clash = [n for n in names if n in schema.names]
        if clash:
            raise ReleaseError(
                f"[[annotations]] `{cfg.name}`: the run's records already have a column "
                f"{clash[0]!r}, which the aggregate label would overwrite",
                hint="rename that column in the source's mapping or in the step that adds it",
            )
        spec = rec.spec
        agg = pq.read_table(project / spec.aggregate)
        items = [str(x) for x in agg.column("item").to_pylist()]
        keys, rows = _keys(items, spec.source)
        take = pa.array(rows, pa.int64())
        decided = (
            f"[[annotations]] `{cfg.name}` aggregated by {spec.method} "
            f"(decision #{rec.decision_id} by {rec.decided_by}, {rec.decided_at[:10]}); "
            "null for records without annotations"
        )
        fields = (
            pa.field(names[0], agg.schema.field("label").type).with_metadata(
                {"description": f"Label of {decided}.", "datasteward": "label"}
            ),
            pa.field(names[1], pa.float64()).with_metadata(
                {
                    "description": "Confidence in [0, 1] of the label (the method's posterior "
                    f"probability, or the share of votes for mv) of {decided}."
                }
            ),
            pa.field(names[2], pa.string()).with_metadata(
                {"description": f"Aggregation method of the label of {decided}."}
            ),
        )
        tables.append(
            _Joined(
                keys=pa.array(keys, pa.string()),
                label=agg.column("label").combine_chunks().take(take),
                confidence=agg.column("confidence").combine_chunks().take(take),
                method=pa.array([spec.method] * len(keys), pa.string()),
                fields=fields,
            )
        )
        notes.append(
            f"[[annotations]] `{cfg.name}`: {names[0]}, {names[1]}, {names[2]} from "
            f"aggregation decision #{rec.decision_id} ({spec.method}, {spec.items} items)"
        )
    return LabelJoin(tuple(tables), tuple(notes), tuple(warnings))
