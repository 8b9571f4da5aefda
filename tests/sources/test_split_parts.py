"""Split files: reading a file's parts one after the other gives exactly what reading the file
whole gives — the same records (ids, every column, in order) and the same quarantine entries
(file, line / row / offset, error, raw bytes) — for JSON Lines, Parquet and .warc.gz; files that
cannot be cut safely stay whole."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sources_helpers import C4, make_recipe, need
from split_reads import check_parts_tile, read_shards, whole_and_split

from datasteward.sources import expand_shards, reader_for

# ---- JSON Lines ----------------------------------------------------------------------------


def test_c4_jsonl_parts_read_as_the_whole_file(tmp_path: Path) -> None:
    lines = need(C4).read_bytes().splitlines(keepends=True)
    # bad input on and around the cut points the split will choose, and a long run of blanks
    lines[3:3] = [b"{not json\n", b"\n" * 40, b'{"no_text": 1}\n', b"[1, 2]\n"]
    lines[400:400] = [b'{"text": "\xff\xfe bad utf-8"}\n']
    data = b"".join(lines) + b'{"text": "last line without a newline"}'
    (tmp_path / "c4.jsonl").write_bytes(data)
    parts, whole, split = whole_and_split(
        tmp_path, 100_000, format="jsonl", path="c4.jsonl", url_field="url"
    )
    assert len(parts) == 32  # 2.36 MB in parts of at most 100 kB: 2**5 equal parts
    for k, p in enumerate(parts[1:], 1):  # each cut: the first line start after size*k/32
        target = len(data) * k // 32
        assert p.part is not None and p.part.start >= target
        assert b"\n" not in data[target - 1 : p.part.start - 1]
    check_parts_tile(parts, len(data))
    for p in parts:  # every cut is a line start
        assert p.part is not None and (p.part.start == 0 or data[p.part.start - 1] == 0x0A)
        assert p.part.before == data.count(b"\n", 0, p.part.start)
    assert len(whole[0]) == 1001
    assert [b[2] for b in whole[1]] == ["line 4", "line 45", "line 46", "line 440"]
    assert split == whole


def test_compressed_jsonl_stays_whole(tmp_path: Path) -> None:
    data = need(C4).read_bytes()
    (tmp_path / "c4.jsonl.gz").write_bytes(gzip.compress(data))
    recipe = make_recipe(tmp_path, format="jsonl", path="c4.jsonl.gz")
    (shard,) = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    assert reader.split(shard, size=10**9, target_bytes=1000) == (shard,)


def test_csv_and_json_arrays_stay_whole(tmp_path: Path) -> None:
    rows = "".join(f'{i},"a quoted\nnewline {i}"\n' for i in range(2000))
    (tmp_path / "a.csv").write_text("id,text\n" + rows)
    recipe = make_recipe(tmp_path, format="csv", path="a.csv", id_field="id")
    (shard,) = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    assert reader.split(shard, size=len(rows), target_bytes=100) == (shard,)


_good = st.fixed_dictionaries(
    {"text": st.text(min_size=0, max_size=30), "n": st.integers(-5, 5)}
).map(lambda d: json.dumps(d).encode())
_line = st.one_of(
    _good,
    _good,
    st.just(b""),
    st.just(b"   \r"),
    st.just(b"{broken"),
    st.just(b'{"n": 1}'),  # no text field
    st.just(b'"a string"'),
    st.just(b"\xef\xbb\xbf" + b'{"text": "bom"}'),
    st.binary(min_size=1, max_size=12).filter(lambda b: b"\n" not in b),
    st.just(b'{"text": "' + b"x" * 300 + b'"}'),  # over max_line_bytes below
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(_line, min_size=1, max_size=60),
    trailing_newline=st.booleans(),
    target=st.integers(1, 400),
    batch_size=st.integers(1, 50),
)
def test_malformed_lines_at_part_edges(
    tmp_path: Path, lines: list[bytes], trailing_newline: bool, target: int, batch_size: int
) -> None:
    """Any file, any part size: the parts read as the whole file (records and quarantine)."""
    data = b"\n".join(lines) + (b"\n" if trailing_newline else b"")
    if not data:
        return
    path = tmp_path / "h.jsonl"
    path.write_bytes(data)
    recipe = make_recipe(tmp_path, format="jsonl", path="h.jsonl", options={"max_line_bytes": 200})
    (shard,) = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    parts = reader.split(shard, size=len(data), target_bytes=target)
    if len(parts) > 1:
        check_parts_tile(parts, len(data))
    # a text_field check that fails in the file's first records fails both ways alike
    try:
        whole = read_shards(reader, (shard,), batch_size)
    except Exception as exc:  # noqa: BLE001 - compared below
        whole = ("error", type(exc).__name__)
    try:
        split = read_shards(reader, parts, batch_size)
    except Exception as exc:  # noqa: BLE001
        split = ("error", type(exc).__name__)
    if whole[0] == "error":
        # a wrong text_field is found in the file's first records; a part smaller than those
        # records quarantines them instead (docs/sources.md)
        assert split == whole or len(parts) > 1
        return
    assert split == whole


# ---- Parquet -------------------------------------------------------------------------------


def test_parquet_parts_are_row_groups(tmp_path: Path) -> None:
    docs = [json.loads(x) for x in need(C4).read_text().splitlines()]
    docs[130]["text"] = None  # an unusable row, quarantined with its row number
    table = pa.Table.from_pylist(docs)
    pq.write_table(table, tmp_path / "c4.parquet", row_group_size=100)
    size = (tmp_path / "c4.parquet").stat().st_size
    parts, whole, split = whole_and_split(
        tmp_path, size // 4, format="parquet", path="c4.parquet", url_field="url"
    )
    assert len(parts) == 4
    assert [p.part.kind for p in parts if p.part] == ["row_groups"] * len(parts)
    groups = [(p.part.start, p.part.stop, p.part.before) for p in parts if p.part]
    assert groups[0][0] == 0 and groups[-1][1] == 10
    assert all(a[1] == b[0] and b[2] == 100 * b[0] for a, b in pairwise(groups))
    assert [b[2] for b in whole[1]] == ["row 131"]
    assert len(whole[0]) == 999
    assert split == whole


def test_parquet_of_one_row_group_stays_whole(tmp_path: Path) -> None:
    pq.write_table(pa.table({"text": ["a", "b"]}), tmp_path / "one.parquet")
    recipe = make_recipe(tmp_path, format="parquet", path="one.parquet")
    (shard,) = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    assert reader.split(shard, size=10**9, target_bytes=1) == (shard,)


def test_json_lines_in_a_json_file_split_and_arrays_stay_whole(tmp_path: Path) -> None:
    lines = need(C4).read_bytes().splitlines(keepends=True)
    lines[500:500] = [b"{broken\n", b"\n\n"]
    data = b"\n\n" + b"".join(lines)  # leading blank lines, as the json reader allows
    (tmp_path / "c4.json").write_bytes(data)
    parts, whole, split = whole_and_split(
        tmp_path, 300_000, format="json", path="c4.json", url_field="url"
    )
    assert len(parts) > 5
    check_parts_tile(parts, len(data))
    assert [b[2] for b in whole[1]] == ["line 503"]
    assert len(whole[0]) == 1000
    assert split == whole
    docs = [json.loads(x) for x in lines[:200] if x.startswith(b'{"')]
    (tmp_path / "arr.json").write_text(" \n" + json.dumps(docs))
    recipe = make_recipe(tmp_path, format="json", path="arr.json")
    (shard,) = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    assert reader.split(shard, size=10**9, target_bytes=1000) == (shard,)
