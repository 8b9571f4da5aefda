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


def label_issue_items(
    run_dir: Path, issues: Sequence[LabelIssue], opts: LabelReviewOptions | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Review items (rank order, most doubtful first) for the issues whose item is a record
    of the run, each with the record's outcome in the run; and the items that are not."""
    opts = opts or LabelReviewOptions()
    run = open_run(run_dir)
    wanted = sorted({rid for x in issues for rid in record_ids(x.item, opts)})
    con = connect(run)
    try:
        rows = (
            con.execute(
                f"SELECT id, min(_pos), any_value(_reason) FROM records "
                f"WHERE id IN (SELECT unnest({sql_list(wanted)})) GROUP BY id"
            ).fetchall()
            if wanted
            else []
        )
    finally:
        con.close()
    found = {str(r[0]): (int(r[1]), r[2]) for r in rows}
    steps = {s.pos: s.step_id for s in run.steps}
    items: list[dict[str, Any]] = []
    missing: list[str] = []
    seen: set[str] = set()
    for x in issues:
        rid = next((r for r in record_ids(x.item, opts) if r in found), None)
        if rid is None:
            missing.append(x.item)
            continue
        if rid in seen:
            continue
        seen.add(rid)
        pos, reason = found[rid]
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
