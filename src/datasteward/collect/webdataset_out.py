"""WebDataset shards of collected images: ``NNNNN.tar`` + ``NNNNN.parquet`` + ``NNNNN_stats.json``.

A shard holds the samples of one slice of the input list (``shard_size`` rows, in input order,
as img2dataset does). Each kept sample is three members in the tar, in this order:
``KEY.jpg`` (the stored image), ``KEY.txt`` (the caption, UTF-8) and ``KEY.json`` (everything
known about it: URL, caption, retrieved_at, HTTP status and the headers that matter, the
redirect chain, the opt-out signals and the decision, the licence/author fields of the EXIF
and XMP, sha256 of the original bytes, perceptual hash, sizes and format). ``KEY`` is the
shard number and the row within the shard (``000120007``), so keys sort in input order.

``NNNNN.parquet`` indexes every row of the slice, kept or not: key, url, caption, status
(``success`` or ``failed``), the failure reason and detail, the measures, and where the image
is in the tar (byte offset and size, so a reader can seek to it). ``NNNNN_stats.json`` counts
the rows by status and reason; it is written last, so its presence means the shard is
complete. Files are written under a temporary name and renamed, so a killed download leaves
no half shard under a final name; the next run removes the leftovers and does the shard again.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

#: The columns of a shard's Parquet index (and of the collect's ``index.parquet``).
INDEX_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string()),
        pa.field("shard", pa.string()),
        pa.field("row", pa.int64()),
        pa.field("url", pa.string()),
        pa.field("caption", pa.large_string()),
        pa.field("status", pa.string()),
        pa.field("reason", pa.string()),
        #: kept | refused (not an image...) | opted_out | robots_refused | error | skipped
        pa.field("decision", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("http_status", pa.int32()),
        pa.field("retrieved_at", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("phash", pa.string()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("original_width", pa.int32()),
        pa.field("original_height", pa.int32()),
        pa.field("format", pa.string()),
        pa.field("original_bytes", pa.int64()),
        pa.field("member", pa.string()),
        pa.field("offset", pa.int64()),
        pa.field("size", pa.int64()),
        #: The URL's signals record (robots, X-Robots-Tag, TDMRep, ai.txt, opt-outs) as JSON.
        pa.field("signals", pa.large_string()),
    ]
)


def shard_name(index: int) -> str:
    return f"{index:05d}"


def sample_key(shard: int, row: int) -> str:
    """The key of row ``row`` (0-based, within the shard) of shard ``shard``."""
    return f"{shard:05d}{row:04d}" if row < 10_000 else f"{shard:05d}{row:06d}"


@dataclass
class ShardFiles:
    """The final and temporary paths of one shard's files."""

    folder: Path
    index: int

    @property
    def name(self) -> str:
        return shard_name(self.index)

    @property
    def tar(self) -> Path:
        return self.folder / f"{self.name}.tar"

    @property
    def parquet(self) -> Path:
        return self.folder / f"{self.name}.parquet"

    @property
    def stats(self) -> Path:
        return self.folder / f"{self.name}_stats.json"

    def done(self) -> bool:
        """The shard was finished (its stats file, written last, is there)."""
        return self.stats.is_file() and self.tar.is_file() and self.parquet.is_file()

    def clear_partial(self) -> None:
        """Remove what a killed run left of this shard."""
        for p in (self.tar, self.parquet, self.stats):
            for q in (p, p.with_name(p.name + ".partial")):
                q.unlink(missing_ok=True)


@dataclass
class ShardWriter:
    """Writes one shard; :meth:`close` makes it final (tar, index, then stats)."""

    files: ShardFiles
    #: Extra entries of the stats file (the collect's options, the input, timings).
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.files.folder.mkdir(parents=True, exist_ok=True)
        self.files.clear_partial()
        self._tar_path = self.files.tar.with_name(self.files.tar.name + ".partial")
        self._tar = tarfile.open(self._tar_path, "w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115
        self._rows: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()

    def _member(self, name: str, data: bytes, mtime: float) -> tuple[int, int]:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(mtime)
        info.mode = 0o444
        self._tar.addfile(info, io.BytesIO(data))
        # the data ends the member, padded to whole blocks (TarInfo.offset_data is only set
        # when a tar is read)
        blocks = -(-len(data) // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
        return self._tar.offset - blocks, len(data)

    def add(
        self,
        key: str,
        row: int,
        *,
        image: bytes,
        ext: str,
        caption: str | None,
        meta: dict[str, Any],
        mtime: float = 0.0,
    ) -> None:
        """A kept sample: its image, caption and JSON, and its index row."""
        member = f"{key}.{ext}"
        offset, size = self._member(member, image, mtime)
        self._member(f"{key}.txt", (caption or "").encode("utf-8", "replace"), mtime)
        self._member(
            f"{key}.json", orjson.dumps(meta, default=str, option=orjson.OPT_INDENT_2), mtime
        )
        self._index(key, row, meta, status="success", member=member, offset=offset, size=size)
        self.counts["success"] += 1

    def fail(self, key: str, row: int, *, reason: str, meta: dict[str, Any]) -> None:
        """A row that gave no image (with the reason code): in the index only."""
        self._index(key, row, meta, status="failed", reason=reason)
        self.counts[f"failed:{reason}"] += 1

    def _index(self, key: str, row: int, meta: Mapping[str, Any], **extra: Any) -> None:
        image = meta.get("image") or {}
        http = meta.get("http") or {}
        rec: dict[str, Any] = {
            "key": key,
            "shard": self.files.name,
            "row": row,
            "url": meta.get("url"),
            "caption": meta.get("caption"),
            "detail": meta.get("error"),
            "http_status": http.get("status"),
            "retrieved_at": meta.get("retrieved_at"),
            "decision": meta.get("decision"),
            "signals": None
            if meta.get("signals") is None
            else orjson.dumps(meta["signals"], default=str).decode(),
        }
        for name in (
            "sha256",
            "phash",
            "width",
            "height",
            "original_width",
            "original_height",
            "format",
            "original_bytes",
        ):
            rec[name] = image.get(name)
        rec.update(extra)
        self._rows.append(rec)

    def close(self) -> dict[str, Any]:
        """Finish the shard; returns its stats."""
        self._tar.close()
        os.replace(self._tar_path, self.files.tar)
        cols = {name: [r.get(name) for r in self._rows] for name in INDEX_SCHEMA.names}
        table = pa.table(
            {n: pa.array(cols[n], INDEX_SCHEMA.field(n).type) for n in INDEX_SCHEMA.names},
            schema=INDEX_SCHEMA,
        )
        part = self.files.parquet.with_name(self.files.parquet.name + ".partial")
        pq.write_table(table, part)
        os.replace(part, self.files.parquet)
        stats: dict[str, Any] = {
            "shard": self.files.name,
            "rows": len(self._rows),
            "success": self.counts["success"],
            "failed": sum(v for k, v in self.counts.items() if k.startswith("failed:")),
            "failures": {
                k.split(":", 1)[1]: v
                for k, v in sorted(self.counts.items())
                if k.startswith("failed:")
            },
            **self.info,
        }
        part = self.files.stats.with_name(self.files.stats.name + ".partial")
        part.write_text(json.dumps(stats, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(part, self.files.stats)
        return stats

    def abort(self) -> None:
        """Drop the shard (an interrupted run): nothing is left under a final name."""
        self._tar.close()
        self._tar_path.unlink(missing_ok=True)


def read_stats(folder: Path) -> list[dict[str, Any]]:
    """The stats of every finished shard in ``folder``, in shard order."""
    out = []
    for p in sorted(folder.glob("*_stats.json")):
        out.append(json.loads(p.read_text(encoding="utf-8")))
    return out


def write_index(folder: Path, name: str = "index.parquet") -> Path:
    """Concatenate the finished shards' indexes into one Parquet file (the collect's index)."""
    tables = [
        pq.read_table(folder / f"{s['shard']}.parquet", schema=INDEX_SCHEMA)
        for s in read_stats(folder)
    ]
    table = pa.concat_tables(tables) if tables else INDEX_SCHEMA.empty_table()
    out = folder / name
    part = out.with_name(out.name + ".partial")
    pq.write_table(table, part)
    os.replace(part, out)
    return out
