"""The `webdataset` source: shards written by collect's writer (real photos and their Open
Images credits) read back as image-text records with their provenance."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

pytest.importorskip("PIL", reason="collect images needs the `collect` extra (pillow)")
pytest.importorskip("imagehash", reason="collect images needs the `collect` extra (imagehash)")

from datafiles import shared  # noqa: E402

from datasteward.collect.imaging import ImageOptions, process_image  # noqa: E402
from datasteward.collect.webdataset_out import (  # noqa: E402
    ShardFiles,
    ShardWriter,
    read_stats,
    sample_key,
    write_index,
)
from datasteward.recipe.model import SourceConfig  # noqa: E402
from datasteward.sources import BadRecord, Shard, reader_for  # noqa: E402

FOLDER = ("image-text", "openimages-cc-by-photos")


def credits() -> list[dict[str, str]]:
    with shared(*FOLDER, "credits.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_shard(folder: Path, index: int, rows: list[dict[str, str]]) -> dict[str, Any]:
    """A shard as collect writes it: the photos of ``rows``, plus one failed row."""
    writer = ShardWriter(ShardFiles(folder, index), info={"input": "credits.csv"})
    for i, row in enumerate(rows):
        data = shared(*FOLDER, f"{row['ImageID']}.jpg").read_bytes()
        rec = process_image(data, ImageOptions(image_size=64))
        meta = {
            "key": sample_key(index, i),
            "url": row["OriginalURL"],
            "caption": row["Title"],
            "retrieved_at": "2026-12-04T10:00:00+00:00",
            "http": {"status": 200, "headers": {"content-type": "image/jpeg"}},
            "license": row["License"],
            "author": row["Author"],
            "image": rec.measures(),
        }
        writer.add(
            sample_key(index, i), i, image=rec.data, ext=rec.ext, caption=row["Title"], meta=meta
        )
    writer.fail(
        sample_key(index, len(rows)),
        len(rows),
        reason="http_404",
        meta={
            "url": "https://example.org/gone.jpg",
            "caption": "gone",
            "http": {"status": 404},
            "error": "HTTP 404",
        },
    )
    return writer.close()


def read(path: Path, **extra: Any) -> tuple[list[dict[str, Any]], list[BadRecord]]:
    config = SourceConfig(name="imgs", format="webdataset", path=str(path), **extra)
    reader = reader_for(config, path.parent)
    bad: list[BadRecord] = []
    rows: list[dict[str, Any]] = []
    for batch in reader.read(
        Shard("imgs", str(path), path.name, 0), batch_size=5, on_bad=bad.append
    ):
        rows += batch.to_pylist()
    return rows, bad


def test_collect_shard_reads_back_with_provenance(tmp_path: Path) -> None:
    rows = credits()
    stats = write_shard(tmp_path, 3, rows)
    assert stats["rows"] == 19 and stats["success"] == 18
    assert stats["failures"] == {"http_404": 1}
    tar = tmp_path / "00003.tar"
    with tarfile.open(tar) as tf:
        names = tf.getnames()
    assert names[:3] == ["000030000.jpg", "000030000.txt", "000030000.json"]
    assert len(names) == 54

    records, bad = read(tar, license_field="license", attribution_field="author")
    assert bad == []
    assert len(records) == 18
    blob = tar.read_bytes()
    for rec, row in zip(records, rows, strict=True):
        assert rec["text"] == row["Title"]
        assert rec["source_uri"] == row["OriginalURL"]
        assert rec["id"].startswith("imgs:00003")
        assert rec["retrieved_at"].isoformat() == "2026-12-04T10:00:00+00:00"
        assert rec["license"] == row["License"]
        assert rec["attribution"] == row["Author"]
        assert rec["content_sha256"] == hashlib.sha256(row["Title"].encode()).hexdigest()
        meta = json.loads(rec["metadata"])
        original = shared(*FOLDER, f"{row['ImageID']}.jpg").read_bytes()
        assert meta["payload_sha256"] == hashlib.sha256(original).hexdigest()
        image = meta["image"]
        assert image["member"].endswith(".jpg")
        stored = blob[image["offset"] : image["offset"] + image["size"]]
        assert stored[:2] == b"\xff\xd8" and len(stored) == image["stored_bytes"]
        assert meta["http"]["status"] == 200

    index = pq.read_table(tmp_path / "00003.parquet").to_pylist()
    assert [r["status"] for r in index].count("success") == 18
    assert index[-1]["status"] == "failed" and index[-1]["reason"] == "http_404"
    assert index[0]["offset"] == json.loads(records[0]["metadata"])["image"]["offset"]


def test_truncated_tar_keeps_the_samples_before_the_break(tmp_path: Path) -> None:
    write_shard(tmp_path, 0, credits()[:6])
    whole = (tmp_path / "00000.tar").read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    records, bad = read(cut)
    assert 1 <= len(records) < 6
    assert len(bad) == 1 and "truncated or corrupt" in bad[0].error
    assert bad[0].where.startswith("offset ")


def test_bad_members_quarantine_their_sample(tmp_path: Path) -> None:
    path = tmp_path / "mixed.tar"
    with tarfile.open(path, "w") as tf:
        for name, data in [
            ("a.txt", b"first caption"),
            ("a.json", b'{"url": "https://e.org/a.jpg"}'),
            ("b.txt", b"\xff\xfe not utf-8"),
            ("b.json", b"{}"),
            ("c.txt", b"third"),
            ("c.json", b"{not json"),
            ("d.txt", b"fourth, no json"),
            ("d.jpg", b"\xff\xd8..."),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    records, bad = read(path)
    assert [r["text"] for r in records] == ["first caption", "fourth, no json"]
    assert records[0]["source_uri"] == "https://e.org/a.jpg"
    assert records[0]["id"] == "imgs:a" and records[1]["id"] == "imgs:d"
    assert json.loads(records[1]["metadata"])["image"]["member"] == "d.jpg"
    assert sorted(b.where for b in bad) == ["sample b", "sample c"]


def test_index_and_resume_markers(tmp_path: Path) -> None:
    rows = credits()
    write_shard(tmp_path, 0, rows[:4])
    # a shard killed half-way leaves only .partial files and no stats: not done
    files = ShardFiles(tmp_path, 1)
    writer = ShardWriter(files)
    writer.add("000010000", 0, image=b"x", ext="jpg", caption="c", meta={"url": "u"})
    assert not files.done()
    assert files.tar.with_name("00001.tar.partial").exists()
    writer.abort()
    assert ShardFiles(tmp_path, 0).done()
    assert [s["shard"] for s in read_stats(tmp_path)] == ["00000"]
    table = pq.read_table(write_index(tmp_path))
    assert table.num_rows == 5
