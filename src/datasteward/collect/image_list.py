"""The input of ``collect images``: a list of image URLs with captions (Parquet, CSV/TSV, JSONL).

The list is read with pyarrow (columns as typed in Parquet and JSON; as text in CSV) and
cut into shards of ``shard_size`` rows in input order, as img2dataset does: shard *n* is rows
``n * shard_size`` to ``(n + 1) * shard_size - 1``, whatever happens to them, so a resumed
download cuts the same shards. The other columns of a row (licence, creator, landing page...)
travel with it into the sample's JSON under ``input``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from datasteward.errors import SourceError

#: File name endings read as each format.
FORMATS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class ImageRow:
    """One input row: its position, URL, caption and other fields."""

    shard: int
    row: int
    url: str
    caption: str | None
    extra: dict[str, Any]


def list_format(path: Path) -> str:
    name = path.name.lower()
    for compressed in (".gz", ".bz2", ".zst", ".xz"):
        if name.endswith(compressed):
            name = name[: -len(compressed)]
    for ending, fmt in FORMATS.items():
        if name.endswith(ending):
            return fmt
    raise SourceError(
        f"{path}: cannot tell the format of the URL list from its name",
        hint="name it .parquet, .csv, .tsv or .jsonl (optionally compressed: .gz, .zst)",
    )


def read_list(path: Path) -> pa.Table:
    """The whole URL list as an Arrow table."""
    if not path.is_file():
        raise SourceError(
            f"the URL list {path} does not exist",
            hint="set `urls` in the [[collect]] table (relative to the recipe)",
        )
    fmt = list_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            # a pandas index saved with the frame is not a field of the rows
            return table.drop_columns(
                [n for n in table.column_names if n.startswith("__index_level_")]
            )
        if fmt in ("csv", "tsv"):
            import pyarrow.csv as pacsv

            parse = pacsv.ParseOptions(
                delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True
            )
            # every column as text, as written (a licence version "2" stays "2", not 2.0)
            with pacsv.open_csv(path, parse_options=parse) as head:
                names = head.schema.names
            return pacsv.read_csv(
                path,
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(
                    strings_can_be_null=True, column_types=dict.fromkeys(names, pa.string())
                ),
            )
        import pyarrow.json as pajson

        return pajson.read_json(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(
            f"cannot read the URL list {path} as {fmt}: {exc}", hint="check the file and its format"
        ) from None


def fingerprint(path: Path) -> str:
    """sha256 of the URL list (a resumed download must read the same list)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class ImageList:
    """The rows of a URL list, cut into shards."""

    table: pa.Table
    url_field: str
    caption_field: str | None
    shard_size: int
    path: Path

    @classmethod
    def open(
        cls, path: Path, *, url_field: str, caption_field: str | None, shard_size: int
    ) -> ImageList:
        table = read_list(path)
        names = table.column_names
        if url_field not in names:
            raise SourceError(
                f"the URL list {path} has no column `{url_field}`; its columns are: "
                f"{', '.join(names)}",
                hint="set url_field in the [[collect]] table to the column with the image URLs",
            )
        if caption_field is not None and caption_field not in names:
            raise SourceError(
                f"the URL list {path} has no column `{caption_field}`; its columns are: "
                f"{', '.join(names)}",
                hint='set caption_field to the column with the captions (or to "" for none)',
            )
        return cls(table, url_field, caption_field, shard_size, path)

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)

    @property
    def shards(self) -> int:
        return -(-self.rows // self.shard_size)

    def shard_rows(self, shard: int) -> Iterator[ImageRow]:
        """The rows of one shard."""
        start = shard * self.shard_size
        part = self.table.slice(start, self.shard_size)
        for i, rec in enumerate(part.to_pylist()):
            url = rec.pop(self.url_field, None)
            caption = rec.pop(self.caption_field, None) if self.caption_field else None
            yield ImageRow(
                shard=shard,
                row=i,
                url=url.strip() if isinstance(url, str) else "" if url is None else str(url),
                caption=None if caption is None else str(caption),
                extra=rec,
            )

    def shard_urls(self, shard: int) -> list[str]:
        """The URLs of one shard (without building its rows)."""
        part = self.table.column(self.url_field).slice(shard * self.shard_size, self.shard_size)
        return [str(u).strip() for u in part.to_pylist() if u is not None]

    def shard_len(self, shard: int) -> int:
        return max(0, min(self.shard_size, self.rows - shard * self.shard_size))
