"""Duplicate source ids: found across every task of a run, handled as the source chooses.

A source that names its ids (``id_field``; WARC record ids) may repeat one. Copies can sit in
different files read by different workers, so no task can see them all. Instead:

1. every task of segment 0 writes the ids it read, in input order, to ``_work/ids/rNNNNN``
   (rank, sequence number in the task, file, record number in the file);
2. once segment 0 is done, the executor groups those ids with DuckDB (which spills to disk)
   and takes the first copy of each id in input order (the order of the files, then of the
   records in them), so the outcome does not depend on tasks or workers;
3. with ``on_duplicate_id = "fail"`` the run stops, listing the ids; with ``"quarantine"`` the
   later copies are written to ``_work/ids/drop-rNNNNN`` and the tasks that read them run
   again: they quarantine those records as they read them, before any step sees them, so the
   count ``records_in = kept + removed + quarantined`` holds as for any unreadable record.

Without duplicates (the usual case) this costs one small Parquet file per task and one
grouping query; tasks run twice only where a duplicate was found. Every file is written
under a temporary name and renamed, so a run killed at any point resumes to the same result.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datasteward.errors import RunError
from datasteward.recipe.sections import SourceConfig
from datasteward.records.schema import TEXT_COLUMN
from datasteward.runs.layout import RunLayout, read_json, write_json_atomic
from datasteward.sources.base import QUARANTINE_RAW_BYTES, BadRecord

IDS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("rank", pa.int32()),
        pa.field("seq", pa.int64()),
        pa.field("file", pa.string()),
        pa.field("record", pa.int64()),
    ]
)
DROP_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64()),
        pa.field("id", pa.string()),
        pa.field("first", pa.string()),
    ]
)
#: How many duplicates a "fail" message lists.
LISTED = 10


def checks_ids(source: SourceConfig) -> bool:
    """Whether a source's ids come from the input (and so may repeat)."""
    return source.id_field is not None or source.format == "warc"


def ids_dir(layout: RunLayout) -> Path:
    return layout.work / "ids"


def _index_path(layout: RunLayout, rank: int) -> Path:
    return ids_dir(layout) / f"r{rank:05d}.parquet"


def _drop_path(layout: RunLayout, rank: int) -> Path:
    return ids_dir(layout) / f"drop-r{rank:05d}.parquet"


def _counts_path(layout: RunLayout, rank: int) -> Path:
    return ids_dir(layout) / f"r{rank:05d}.counts.json"


def record_bases(layout: RunLayout) -> dict[int, dict[str, int]]:
    """Per rank, per file: the records of that file read by lower ranks.

    A large file split into parts is read by several tasks, each counting its records from
    1; adding the records of the parts before makes "record n" the n-th record of the whole
    file, as when the file is read by one task. Known once every task of segment 0 is done
    (each writes its counts, dropped copies included, when it closes).
    """
    bases: dict[int, dict[str, int]] = {}
    seen: Counter[str] = Counter()
    for path in sorted(ids_dir(layout).glob("r*.counts.json")):
        rank = int(path.name[1:6])
        counts = read_json(path)
        bases[rank] = {f: seen[f] for f in counts}
        seen.update(counts)
    return bases


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Duplicate:
    """A later copy of an id: where it is and where the first copy is."""

    source: str
    id: str
    rank: int
    seq: int
    where: str
    first: str


class TaskIds:
    """A task's side of the check: records the ids it reads (streamed to its index file, so
    memory stays bounded) and drops the copies decided earlier."""

    def __init__(self, layout: RunLayout, rank: int, source: SourceConfig) -> None:
        self.layout = layout
        self.rank = rank
        self.source = source
        self.seq = 0
        self.records: Counter[str] = Counter()
        self.path = _index_path(layout, rank)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.writer = pq.ParquetWriter(self.tmp, IDS_SCHEMA, compression="zstd")
        self.drops: dict[int, str] = {}
        self.bases: dict[str, int] | None = None
        path = _drop_path(layout, rank)
        if path.exists():
            table = pq.read_table(path)
            self.drops = dict(
                zip(table.column("seq").to_pylist(), table.column("first").to_pylist(), strict=True)
            )

    def take(self, batch: pa.RecordBatch, file: str, quarantine: list[BadRecord]) -> pa.RecordBatch:
        """The batch without the copies decided earlier (quarantined); records the rest."""
        n = batch.num_rows
        seq0, rec0 = self.seq, self.records[file]
        self.seq += n
        self.records[file] += n
        seqs = pa.array(range(seq0, seq0 + n), pa.int64())
        records = pa.array(range(rec0 + 1, rec0 + n + 1), pa.int64())
        hits = [s - seq0 for s in range(seq0, seq0 + n) if s in self.drops] if self.drops else []
        if hits:
            if self.bases is None:  # drops exist: every task of segment 0 wrote its counts
                self.bases = record_bases(self.layout).get(self.rank, {})
            rec0 += self.bases.get(file, 0)
            ids = batch.column("id")
            texts = batch.column(TEXT_COLUMN)
            for i in hits:
                rid = ids[i].as_py()
                first = self.drops[seq0 + i]
                text = texts[i].as_py() or ""
                quarantine.append(
                    BadRecord(
                        source=self.source.name,
                        file=file,
                        where=f"record {rec0 + i + 1}",
                        error=f"duplicate id `{rid}` (first copy: {first}); this later copy is "
                        'quarantined (on_duplicate_id = "quarantine")',
                        raw=text.encode("utf-8", "surrogatepass")[:QUARANTINE_RAW_BYTES],
                    )
                )
            positions = pa.array(range(n), pa.int64())
            keep = pc.invert(pc.is_in(positions, value_set=pa.array(hits, pa.int64())))
            batch = batch.filter(keep)
            seqs = seqs.filter(keep)
            records = records.filter(keep)
        if batch.num_rows:
            self.writer.write_table(
                pa.Table.from_arrays(
                    [
                        batch.column("id").cast(pa.string()),
                        pa.repeat(pa.scalar(self.rank, pa.int32()), batch.num_rows),
                        seqs,
                        pa.repeat(pa.scalar(file, pa.string()), batch.num_rows),
                        records,
                    ],
                    schema=IDS_SCHEMA,
                )
            )
        return batch

    def close(self) -> None:
        self.writer.close()
        os.replace(self.tmp, self.path)
        write_json_atomic(_counts_path(self.layout, self.rank), dict(self.records))


def find_duplicates(layout: RunLayout, sources: dict[int, str]) -> list[Duplicate]:
    """Every later copy of an id among the tasks' indexes, in input order.

    ``sources`` maps each checked rank to its source's name.
    """
    import duckdb

    folder = ids_dir(layout)
    if not any(folder.glob("r*.parquet")):
        return []
    glob = str(folder / "r*.parquet").replace("'", "''")
    con = duckdb.connect()
    try:
        con.execute(f"SET temp_directory='{str(folder / 'duckdb-tmp').replace(chr(39), '')}'")
        con.execute("SET preserve_insertion_order=false")
        rows = con.execute(
            f"""
            WITH ids AS (SELECT * FROM read_parquet('{glob}')),
                 repeated AS (SELECT id FROM ids GROUP BY id HAVING count(*) > 1)
            SELECT id, rank, seq, file, record, first_file, first_record, first_rank FROM (
              SELECT ids.*,
                first_value(file) OVER w AS first_file,
                first_value(record) OVER w AS first_record,
                first_value(rank) OVER w AS first_rank,
                row_number() OVER w AS copy
              FROM ids JOIN repeated USING (id)
              WINDOW w AS (PARTITION BY id ORDER BY rank, seq)
            ) WHERE copy > 1
            ORDER BY rank, seq
            """
        ).fetchall()
    finally:
        con.close()
    bases = record_bases(layout) if rows else {}  # records of the parts before (split files)
    return [
        Duplicate(
            source=sources.get(int(rank), "?"),
            id=str(rid),
            rank=int(rank),
            seq=int(seq),
            where=f"{file} record {record + bases.get(int(rank), {}).get(file, 0)}",
            first=f"{first_file} record "
            f"{first_record + bases.get(int(first_rank), {}).get(first_file, 0)}",
        )
        for rid, rank, seq, file, record, first_file, first_record, first_rank in rows
    ]


def refuse(duplicates: list[Duplicate]) -> RunError:
    """The error of a run whose sources chose ``on_duplicate_id = "fail"``."""
    ids = {d.id for d in duplicates}
    listed = ", ".join(f"`{d.id}` at {d.where} (first: {d.first})" for d in duplicates[:LISTED])
    more = f", and {len(duplicates) - LISTED} more" if len(duplicates) > LISTED else ""
    sources = ", ".join(sorted({f"`{d.source}`" for d in duplicates}))
    copies = "later copy" if len(duplicates) == 1 else "later copies"
    return RunError(
        f"source {sources} repeats ids ({len(duplicates)} {copies} of {len(ids)} "
        f"id{'s' if len(ids) != 1 else ''}): {listed}{more}",
        hint='make the ids unique, or set on_duplicate_id = "quarantine" in the [[sources]] '
        "table to keep the first copy of each id and quarantine the others",
    )


def plan_drops(layout: RunLayout, duplicates: list[Duplicate]) -> list[int]:
    """Write each task's copies to drop (added to any decided before); returns the ranks."""
    by_rank: dict[int, list[Duplicate]] = {}
    for d in duplicates:
        by_rank.setdefault(d.rank, []).append(d)
    for rank, dups in by_rank.items():
        path = _drop_path(layout, rank)
        rows = {d.seq: {"seq": d.seq, "id": d.id, "first": d.first} for d in dups}
        if path.exists():
            for row in pq.read_table(path, schema=DROP_SCHEMA).to_pylist():
                rows.setdefault(row["seq"], row)
        _write(pa.Table.from_pylist([rows[s] for s in sorted(rows)], schema=DROP_SCHEMA), path)
    return sorted(by_rank)
