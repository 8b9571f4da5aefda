"""Split .warc.gz files: parts at gzip members read as the whole file (records and quarantine
entries, with the offsets of the whole file); a file that is one gzip stream stays whole."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from sources_helpers import DOLMA, WHIRLWIND, make_recipe, need
from split_reads import check_parts_tile, read_shards, whole_and_split

from datasteward.sources import ShardPart, expand_shards, reader_for

# ---- WARC ----------------------------------------------------------------------------------


def _members(data: bytes) -> list[int]:
    starts, pos = [], 0
    while pos < len(data) and data[pos:].strip(b"\0"):
        starts.append(pos)
        d = zlib.decompressobj(wbits=31)
        d.decompress(data[pos:])
        pos = len(data) - len(d.unused_data)
    return starts


@pytest.mark.parametrize(
    "path",
    [
        DOLMA / "warc" / "sample-0000.warc.gz",
        DOLMA / "warc" / "sample-0001.warc.gz",
        WHIRLWIND / "whirlwind.warc.gz",
    ],
    ids=["dolma-0", "dolma-1", "whirlwind"],
)
def test_warc_gz_parts_are_gzip_members(tmp_path: Path, path: Path) -> None:
    data = need(path).read_bytes()
    (tmp_path / "a.warc.gz").write_bytes(data)
    members = _members(data)
    parts, whole, split = whole_and_split(
        tmp_path, max(400, len(data) // 6), format="warc", path="a.warc.gz"
    )
    assert len(parts) > 1
    check_parts_tile(parts, len(data))
    assert {p.part.start for p in parts if p.part} <= set(members)
    for p in parts[1:]:  # a response stays with the request / metadata records before it
        assert p.part is not None
        head = zlib.decompressobj(wbits=31).decompress(data[p.part.start :], 400)
        assert b"WARC-Type: response" not in head, head
    assert whole[0]
    assert split == whole


def test_warc_gz_with_a_corrupt_member_next_to_a_cut(tmp_path: Path) -> None:
    data = bytearray(need(DOLMA / "warc" / "sample-0000.warc.gz").read_bytes())
    members = _members(bytes(data))
    # corrupt the deflate data of the member just before the middle one
    mid = members[len(members) // 2]
    before = members[len(members) // 2 - 1]
    for i in range((before + mid) // 2, (before + mid) // 2 + 40):
        data[i] ^= 0x5A
    (tmp_path / "a.warc.gz").write_bytes(bytes(data))
    recipe = make_recipe(tmp_path, format="warc", path="a.warc.gz")
    (shard,) = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    # the cut right after the damaged member, as a split at that member start makes it
    parts = (
        replace(shard, part=ShardPart("members", 0, mid, 0, mid)),
        replace(shard, part=ShardPart("members", mid, len(data), 0, len(data) - mid)),
    )
    whole, split = read_shards(reader, (shard,)), read_shards(reader, parts)
    assert [b[2] for b in whole[1]] == [f"offset {before}"]
    assert f"reading resumes at offset {mid}" in whole[1][0][3]
    assert [r["id"] for r in split[0]] == [r["id"] for r in whole[0]]
    assert split == whole


def test_warc_of_one_gzip_stream_stays_whole(tmp_path: Path) -> None:
    raw = gzip.decompress(need(DOLMA / "warc" / "sample-0000.warc.gz").read_bytes())
    (tmp_path / "one.warc.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "plain.warc").write_bytes(raw)
    for name in ("one.warc.gz", "plain.warc"):
        recipe = make_recipe(tmp_path, format="warc", path=name)
        (shard,) = expand_shards(recipe)
        reader = reader_for(recipe.sources[0], recipe.dir)
        assert reader.split(shard, size=10**6, target_bytes=1000) == (shard,), name
