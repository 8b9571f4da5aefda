"""Parquet (the LAION-like list), a folder of text files, and save_to_disk datasets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from sources_helpers import C4, LAION, need, read

from datasteward.errors import SourceError


def test_laion_parquet_streams_all_rows(tmp_path: Path) -> None:
    table = pq.read_table(need(LAION))
    res = read(
        tmp_path,
        path=str(LAION),
        format="parquet",
        text_field="TEXT",
        url_field="URL",
        batch_size=1000,
        options={"read_batch_rows": 777},
    )
    assert len(res.rows) == table.num_rows == 10_000  # SOURCE.md
    assert [r["text"] for r in res.rows] == table.column("TEXT").to_pylist()
    assert [r["source_uri"] for r in res.rows] == table.column("URL").to_pylist()
    assert len({r["id"] for r in res.rows}) == 10_000
    assert res.rows[5]["content_sha256"] == hashlib.sha256(res.rows[5]["text"].encode()).hexdigest()


def test_parquet_wrong_text_column(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="text_field = 'text'.*columns are: URL, TEXT"):
        read(tmp_path, path=str(need(LAION)), format="parquet")


def test_parquet_null_text_is_quarantined_by_row(tmp_path: Path) -> None:
    table = pq.read_table(need(LAION)).slice(0, 100)
    texts = table.column("TEXT").to_pylist()
    texts[41] = None
    import pyarrow as pa

    pq.write_table(
        table.set_column(1, "TEXT", pa.array(texts)), tmp_path / "x.parquet", row_group_size=30
    )
    res = read(tmp_path, path="x.parquet", format="parquet", text_field="TEXT")
    assert len(res.rows) == 99
    assert [(b.where, b.error) for b in res.bad] == [("row 42", "the field `TEXT` is null")]


def _c4_texts(n: int) -> list[str]:
    return [orjson.loads(line)["text"] for line in need(C4).read_bytes().splitlines()[:n]]


def test_text_folder_one_record_per_file(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    texts = _c4_texts(12)
    for i, t in enumerate(texts):
        (docs / f"{i:03d}.txt").write_text(t, encoding="utf-8")
    (docs / "005.txt").write_bytes(b"caf\xe9 au lait")  # latin-1, not UTF-8
    res = read(tmp_path, path="docs/*.txt", format="text")
    assert len(res.rows) == 11
    assert [r["source_uri"] for r in res.rows][:5] == [f"docs/{i:03d}.txt" for i in range(5)]
    assert res.rows[0]["text"] == texts[0]
    assert [(b.file, b.where) for b in res.bad] == [("docs/005.txt", "offset 3")]
    assert "invalid utf-8 (byte 0xe9)" in res.bad[0].error


def test_hf_save_to_disk_dataset_and_dict(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(
        "json", data_files=str(need(C4)), split="train", cache_dir=str(tmp_path / "cache")
    )
    ds.save_to_disk(str(tmp_path / "c4"), max_shard_size="1MB")
    datasets.DatasetDict(
        {"train": ds.select(range(600)), "test": ds.select(range(600, 1000))}
    ).save_to_disk(str(tmp_path / "c4dict"))
    res = read(tmp_path, path="c4", format="hf", url_field="url", date_field="timestamp")
    assert len(res.shards) > 1 and all(s.location.startswith("c4/data-") for s in res.shards)
    assert [r["text"] for r in res.rows] == _c4_texts(1000)
    assert res.rows[0]["retrieved_at"] is not None and res.rows[0]["source_uri"].startswith("http")
    split = read(tmp_path, path="c4dict", format="hf", options={"splits": ["test"]})
    assert len(split.rows) == 400 and split.shards[0].location.startswith("c4dict/test/")
    assert [r["text"] for r in split.rows] == _c4_texts(1000)[600:]
