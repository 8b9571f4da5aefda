"""Row by row: is each record's ``content_sha256`` the sha256 of its stored text?

A forger who edits a release's text and recomputes the file hashes and the manifest leaves
``content_sha256`` either stale (caught here) or recomputed too (caught by comparing the
manifest with the project's ledger, :mod:`datasteward.release.consumer.ledger_check`).

Large releases are sampled: whole row groups, picked at random (not predictably, so a
forger cannot know which rows are read), until at least :data:`SAMPLE_ROWS` rows are
checked; ``full=True`` checks every row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from datasteward.records.schema import CONTENT_SHA256, ID, TEXT_COLUMN, content_sha256

#: Rows checked at least by a sampled check (every row when the release has fewer).
SAMPLE_ROWS = 10_000
#: Problems listed before the rest are only counted.
_MAX_LISTED = 20


@dataclass
class RowCheck:
    checked: int = 0
    total: int = 0
    problems: list[str] = field(default_factory=list)
    mismatched: int = 0


def check_content_hashes(
    root: Path, shards: list[str], *, full: bool = False, sample_rows: int = SAMPLE_ROWS
) -> RowCheck:
    """Compare ``content_sha256`` with the sha256 of ``text`` in the given shards of a release.

    Rows without text (links-only releases, or a null text) are not checked. Shards without
    both columns are skipped.
    """
    out = RowCheck()
    groups: list[tuple[str, int, int]] = []  # shard, row group, rows
    for rel in shards:
        meta = pq.ParquetFile(root / rel).metadata
        names = set(meta.schema.to_arrow_schema().names)
        out.total += meta.num_rows
        if TEXT_COLUMN not in names or CONTENT_SHA256 not in names:
            continue
        groups.extend((rel, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups))
    picked = groups
    if not full and sum(n for *_, n in groups) > sample_rows:
        shuffled = random.SystemRandom().sample(groups, len(groups))
        picked, taken = [], 0
        for group in shuffled:
            if taken >= sample_rows:
                break
            picked.append(group)
            taken += group[2]
        picked.sort()
    for rel, index, _ in picked:
        _check_group(root, rel, index, out)
    if out.mismatched > _MAX_LISTED:
        out.problems.append(
            f"... and {out.mismatched - _MAX_LISTED} more rows whose content_sha256 is not "
            "the sha256 of their text"
        )
    return out


def _check_group(root: Path, rel: str, group: int, out: RowCheck) -> None:
    pf = pq.ParquetFile(root / rel)
    offset = sum(pf.metadata.row_group(i).num_rows for i in range(group))
    table = pf.read_row_group(group, columns=[ID, TEXT_COLUMN, CONTENT_SHA256])
    texts = table.column(TEXT_COLUMN)
    hashes = table.column(CONTENT_SHA256)
    ids = table.column(ID)
    for i, (text, want) in enumerate(zip(texts.to_pylist(), hashes.to_pylist(), strict=True)):
        if text is None:
            continue
        out.checked += 1
        got = content_sha256(text)
        if got != want:
            out.mismatched += 1
            if out.mismatched <= _MAX_LISTED:
                out.problems.append(
                    f"{rel}: row {offset + i} (id {ids[i].as_py()!r:.80}): content_sha256 "
                    f"{str(want)[:16]}… is not the sha256 of its text ({got[:16]}…)"
                )
