"""Shard expansion: order, global indexes, locations, fsspec URLs and empty globs."""

from __future__ import annotations

import pickle
import shutil
import zipfile
from pathlib import Path

import pytest
from sources_helpers import C4, DCLM, make_recipe, need, read

from datasteward.errors import SourceError
from datasteward.recipe import parse_recipe
from datasteward.sources import READERS, expand_shards, reader_class, reader_for


def test_shards_follow_recipe_order_with_sorted_files_and_global_index(tmp_path: Path) -> None:
    need(DCLM)
    (tmp_path / "data").mkdir()
    for name in ("b.jsonl", "a.jsonl", "c.jsonl"):
        shutil.copy(need(C4), tmp_path / "data" / name)
    text = f"""
[dataset]
name = "t"
[[sources]]
name = "web"
format = "jsonl"
path = "data/*.jsonl"
[[sources]]
name = "dclm"
format = "jsonl"
path = "{DCLM}/*.jsonl"
"""
    recipe = parse_recipe(text, tmp_path / "datasteward.toml")
    shards = expand_shards(recipe)
    assert [s.index for s in shards] == list(range(5))
    assert [s.source for s in shards] == ["web"] * 3 + ["dclm"] * 2
    assert [s.location for s in shards[:3]] == ["data/a.jsonl", "data/b.jsonl", "data/c.jsonl"]
    assert all(Path(s.uri).is_absolute() and Path(s.uri).exists() for s in shards)
    # outside the recipe folder, the location is the absolute path
    assert shards[3].location.endswith("dclm-quality-annotations/agreement_data.jsonl")


def test_empty_glob_names_source_pattern_and_folder(tmp_path: Path) -> None:
    recipe = make_recipe(tmp_path, format="jsonl", path="data/*.jsonl")
    with pytest.raises(SourceError) as err:
        expand_shards(recipe)
    msg = str(err.value)
    assert "source `src`" in msg and "'data/*.jsonl'" in msg and str(tmp_path) in msg
    assert "datasteward.toml:" in msg  # where the source is declared


def test_zip_member_url_relative_to_recipe(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "c4.zip", "w") as z:
        z.write(need(C4), "c4_sample.jsonl")
    res = read(tmp_path, format="jsonl", path="zip://*.jsonl::c4.zip")
    assert [s.location for s in res.shards] == ["zip://c4_sample.jsonl::c4.zip"]
    assert len(res.rows) == 1000
    # the id depends on the location as written, not on where the recipe folder is
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(tmp_path / "c4.zip", other / "c4.zip")
    again = read(other, format="jsonl", path="zip://c4_sample.jsonl::c4.zip")
    assert [r["id"] for r in again.rows] == [r["id"] for r in res.rows]


def test_file_url(tmp_path: Path) -> None:
    shutil.copy(need(C4), tmp_path / "c4.jsonl")
    res = read(tmp_path, format="jsonl", path=f"file://{tmp_path}/*.jsonl")
    assert [s.location for s in res.shards] == ["c4.jsonl"] and len(res.rows) == 1000


def test_every_format_has_a_picklable_reader(tmp_path: Path) -> None:
    for fmt in READERS:
        recipe = make_recipe(tmp_path, format=fmt, path="x")
        reader = reader_for(recipe.sources[0], recipe.dir)
        assert isinstance(reader, reader_class(fmt))
        clone = pickle.loads(pickle.dumps(reader))
        assert clone.config == reader.config and clone.format == fmt


def test_unknown_option_is_named(tmp_path: Path) -> None:
    recipe = make_recipe(tmp_path, format="csv", path="x.csv", options={"delimeter": ";"})
    with pytest.raises(SourceError, match="unknown option `delimeter`.*delimiter"):
        reader_for(recipe.sources[0], recipe.dir)
    recipe = make_recipe(tmp_path, format="warc", path="x", options={"extract": "boilerpipe"})
    with pytest.raises(SourceError, match="option `extract` must be one of 'resiliparse'"):
        reader_for(recipe.sources[0], recipe.dir)
