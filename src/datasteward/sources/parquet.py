"""Parquet files, streamed batch by batch with pyarrow (a file is never loaded whole).

A large file is split by row groups (:meth:`ParquetReader.split`): a part reads its row groups
and numbers its rows after the rows of the groups before it. Each row group is read on its
own, so a corrupt row group is quarantined (with its number and
row range) and the row groups after it are still read. Its one quarantine entry counts as the
rows the group held (the file's metadata knows), so records in = kept + quarantined still holds
in records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import bad, parse_options
from datasteward.sources._fields import FieldMap, UnusableRecord
from datasteward.sources._io import open_raw, split_targets
from datasteward.sources.base import OnBad, Reader, RecordBuilder, Shard, ShardPart

if TYPE_CHECKING:
    import pyarrow.parquet as pq


@dataclass(frozen=True)
class ParquetOptions:
    """Options of the ``parquet`` format."""

    #: Rows decoded at a time (bounds memory; independent of the output batch size).
    read_batch_rows: int = 8192


def table_rows(
    config: SourceConfig,
    shard: Shard,
    batches: Iterator[tuple[int, pa.RecordBatch]],
    *,
    batch_size: int,
    on_bad: OnBad,
) -> Iterator[pa.RecordBatch]:
    """Map Arrow batches of input rows (with the row number of their first row) to records."""
    builder = RecordBuilder(config, shard)
    cols = FieldMap.of(config).columns(builder)
    text_field = config.text_field
    for first, batch in batches:
        for i, row in enumerate(batch.to_pylist()):
            rownum = first + i
            try:
                cols.add(row, rownum)
            except UnusableRecord as exc:
                on_bad(bad(config, shard.location, f"row {rownum}", str(exc),
                           repr({k: v for k, v in row.items() if k != text_field})[:4096]
                           .encode()))
                continue
            if len(cols) >= batch_size:
                if (out := cols.batch()) is not None:
                    yield out
    if (out := cols.batch()) is not None:
        yield out


class ParquetReader(Reader):
    format = "parquet"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, ParquetOptions)

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        with open_raw(shard.uri) as fh:
            try:
                pf = pq.ParquetFile(fh)
            except (pa.ArrowException, OSError) as exc:
                on_bad(bad(self.config, shard.location, "offset 0",
                           f"not a readable Parquet file: {exc}"))
                return
            FieldMap.of(self.config).check_columns(pf.schema_arrow.names, file=shard.location,
                                                   config=self.config)
            yield from table_rows(self.config, shard, self._batches(pf, shard, on_bad),
                                  batch_size=batch_size, on_bad=on_bad)

    def split(self, shard: Shard, *, size: int, target_bytes: int) -> tuple[Shard, ...]:
        """Consecutive row groups, in equal parts of at most about ``target_bytes`` (their
        compressed bytes, :func:`split_targets`); a file of
        one row group, or whose footer cannot be read, stays whole (its reader reports it)."""
        import pyarrow.parquet as pq

        try:
            with open_raw(shard.uri) as fh:
                meta = pq.ParquetFile(fh).metadata
        except (pa.ArrowException, OSError):
            return (shard,)
        groups = []
        for rg in range(meta.num_row_groups):
            g = meta.row_group(rg)
            stored = sum(g.column(c).total_compressed_size for c in range(g.num_columns))
            groups.append((g.num_rows, stored))
        parts: list[Shard] = []
        first = rows_before = part_bytes = part_rows = done = 0
        # equal parts of at most about target_bytes (split_targets), by the groups' bytes
        ends = [*split_targets(sum(g[1] for g in groups), target_bytes), 1 << 62]
        for rg, (rows, stored) in enumerate(groups):
            part_rows += rows
            part_bytes += stored
            done += stored
            if done >= ends[len(parts)] or rg == len(groups) - 1:
                part = ShardPart("row_groups", first, rg + 1, rows_before, part_bytes)
                parts.append(replace(shard, part=part))
                first, rows_before = rg + 1, rows_before + part_rows
                part_bytes = part_rows = 0
        if len(parts) < 2:
            return (shard,)
        # the footer and headers count with the last part: the parts' bytes add up to the file
        last = parts[-1].part
        if last is not None:
            rest = size - sum(p.part.bytes for p in parts[:-1] if p.part is not None)
            parts[-1] = replace(parts[-1], part=replace(last, bytes=max(last.bytes, rest)))
        return tuple(parts)

    def _batches(
        self, pf: pq.ParquetFile, shard: Shard, on_bad: OnBad
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        meta = pf.metadata
        part = shard.part
        groups = range(meta.num_row_groups) if part is None else range(part.start, part.stop)
        first = 1 + (part.before if part is not None else 0)
        for rg in groups:
            rows = meta.row_group(rg).num_rows
            pos = first
            try:
                for batch in pf.iter_batches(batch_size=self.options.read_batch_rows,
                                             row_groups=[rg]):
                    yield pos, batch
                    pos += batch.num_rows
            except (pa.ArrowException, OSError) as exc:
                lost = first + rows - pos  # the group's rows not read yet (its metadata says)
                on_bad(bad(self.config, shard.location,
                           f"row group {rg} (rows {pos}-{first + rows - 1})",
                           f"cannot decode the row group: {exc}; its {lost} rows "
                           f"{'' if pos == first else 'left '}(of {rows}) are quarantined as "
                           f"this one entry, which counts as {lost} records",
                           records=lost))
            first += rows
