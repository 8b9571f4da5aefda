"""URL lists of `collect images`: img2dataset's LAION-like Parquet, the Openverse CSV, JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datafiles import shared

from datasteward.collect.image_list import ImageList, list_format
from datasteward.errors import SourceError


def test_laion_like_parquet_cut_into_shards() -> None:
    path = shared("image-text", "img2dataset-laion-like-10k", "test_10000.parquet")
    images = ImageList.open(path, url_field="URL", caption_field="TEXT", shard_size=3000)
    assert images.rows == 10_000 and images.shards == 4
    assert [images.shard_len(s) for s in range(4)] == [3000, 3000, 3000, 1000]
    last = list(images.shard_rows(3))
    assert len(last) == 1000 and last[-1].row == 999 and last[0].shard == 3
    first = next(images.shard_rows(0))
    assert first.url.startswith("http") and first.extra == {}
    assert sum(1 for s in range(4) for _ in images.shard_rows(s)) == 10_000


def test_openverse_csv_keeps_the_other_columns() -> None:
    path = shared("image-text", "openverse-cc-images", "sample_images_to_clean.csv")
    images = ImageList.open(path, url_field="url", caption_field="title", shard_size=10_000)
    assert images.rows == 1899
    row = next(images.shard_rows(0))
    assert row.url.startswith("https://live.staticflickr.com/")
    assert row.caption == "20180612-0388 ATLÉTICO X SÃO JOSÉ AMISTOSO"
    assert row.extra["license"] == "by" and str(row.extra["license_version"]) == "2"
    assert "url" not in row.extra and "title" not in row.extra


def test_jsonl_and_wrong_names(tmp_path: Path) -> None:
    path = tmp_path / "links.jsonl"
    path.write_text(
        "\n".join(json.dumps({"u": f"https://e.org/{i}.jpg", "c": f"cap {i}"}) for i in range(5))
        + "\n",
        encoding="utf-8",
    )
    images = ImageList.open(path, url_field="u", caption_field="c", shard_size=2)
    assert [r.caption for s in range(images.shards) for r in images.shard_rows(s)] == [
        f"cap {i}" for i in range(5)
    ]
    with pytest.raises(SourceError, match="no column `url`; its columns are: u, c"):
        ImageList.open(path, url_field="url", caption_field=None, shard_size=2)
    with pytest.raises(SourceError, match="cannot tell the format"):
        list_format(tmp_path / "links.xlsx")
    assert list_format(tmp_path / "a.tsv.gz") == "tsv"
