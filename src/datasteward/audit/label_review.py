"""Label issues into the review queue: the ranked items of ``annotations.issues`` as the
items of a review sample of a run (the ``review_samples``/``review_items`` tables that
``datasteward sample`` writes and ``datasteward review`` and the web review queue read).

A label file's item is a record of the run when it is the record's id, or, with ``source``,
the id the source gave it (``<source>:<item>``, as sources prefix the ids they read)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.annotations.issues import LabelIssue
from datasteward.audit.rundata import connect, open_run, sql_list


@dataclass(frozen=True)
class LabelReviewOptions:
    #: The source whose ids the label items are (``<source>:<item>``); None: full record ids.
    source: str | None = None


def record_ids(item: str, opts: LabelReviewOptions) -> tuple[str, ...]:
    """The record ids a label item may name, the exact id first."""
    return (item,) if opts.source is None else (item, f"{opts.source}:{item}")


def match_records(
    run_dir: Path, items: Sequence[str], opts: LabelReviewOptions | None = None
) -> dict[str, tuple[str, int, str | None]]:
    """Label item -> (record id, the record's position in the run, removal reason) for the
    items that are records of the run (the exact id first, then ``<source>:<item>``)."""
    opts = opts or LabelReviewOptions()
    run = open_run(run_dir)
    wanted = sorted({rid for x in items for rid in record_ids(x, opts)})
    if not wanted:
        return {}
    con = connect(run)
    try:
        rows = con.execute(
            f"SELECT id, min(_pos), any_value(_reason) FROM records "
            f"WHERE id IN (SELECT unnest({sql_list(wanted)})) GROUP BY id"
        ).fetchall()
    finally:
        con.close()
    found = {str(r[0]): (int(r[1]), r[2]) for r in rows}
    out: dict[str, tuple[str, int, str | None]] = {}
    for x in items:
        rid = next((r for r in record_ids(x, opts) if r in found), None)
        if rid is not None:
            out[x] = (rid, *found[rid])
    return out


def label_issue_items(
    run_dir: Path, issues: Sequence[LabelIssue], opts: LabelReviewOptions | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Review items (rank order, most doubtful first) for the issues whose item is a record
    of the run, each with the record's outcome in the run; and the items that are not."""
    run = open_run(run_dir)
    found = match_records(run_dir, [x.item for x in issues], opts)
    steps = {s.pos: s.step_id for s in run.steps}
    items: list[dict[str, Any]] = []
    missing: list[str] = []
    seen: set[str] = set()
    for x in issues:
        if x.item not in found:
            missing.append(x.item)
            continue
        rid, pos, reason = found[x.item]
        if rid in seen:
            continue
        seen.add(rid)
        kept = pos == run.kept_pos
        items.append(
            {
                "record_id": rid,
                "stratum": f"label issue/{x.label}",
                "outcome": "kept" if kept else "removed",
                "step_id": None if kept else steps.get(pos),
                "reason": None if kept else reason,
            }
        )
    return items, missing


def write_record_labels(
    run_dir: Path,
    items: Sequence[str],
    labels: Sequence[Any],
    confidence: Sequence[float],
    path: Path,
    opts: LabelReviewOptions | None = None,
) -> tuple[int, list[str]]:
    """Write ``id, label, confidence`` (Parquet; ``id`` the run's record id, ``label`` as
    text) for the aggregated items that are records of the run, so the aggregate label can
    join the records; returns the rows written and the items that are no record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    found = match_records(run_dir, items, opts)
    ids: list[str] = []
    labs: list[str] = []
    confs: list[float] = []
    missing: list[str] = []
    for item, lab, conf in zip(items, labels, confidence, strict=True):
        if item not in found:
            missing.append(item)
            continue
        ids.append(found[item][0])
        labs.append(str(lab))
        confs.append(float(conf))
    table = pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "label": pa.array(labs, pa.string()),
            "confidence": pa.array(confs, pa.float64()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return len(ids), missing
