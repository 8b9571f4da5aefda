"""The JSONL reader's block fast path gives exactly what reading line by line gives.

``record_lines`` maps blocks of lines with list comprehensions (``Columns.add_block``) and falls
back to the per-line path for a block with anything unusual in it. These tests switch the fast
path off (``add_block`` always declines) and compare every column of every record, and every
quarantined line, on real data and on generated messy input.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sources_helpers import C4, DOLMA, Result, need, read

from datasteward.records.schema import derived_id
from datasteward.sources._fields import Columns


def _both(
    folder: Path, monkeypatch: pytest.MonkeyPatch, **source: Any
) -> tuple[Result, Result]:
    fast = read(folder, **source)
    with monkeypatch.context() as m:
        m.setattr(Columns, "add_block", lambda self, records, positions: False)
        slow = read(folder, **source)
    return fast, slow


def _same(fast: Result, slow: Result) -> None:
    assert fast.rows == slow.rows
    assert [(b.where, b.error, b.raw) for b in fast.bad] == [
        (b.where, b.error, b.raw) for b in slow.bad
    ]


def test_real_c4_same_records_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = need(C4).read_bytes()
    (tmp_path / "c4.jsonl").write_bytes(src)
    fast, slow = _both(tmp_path, monkeypatch, format="jsonl", path="c4.jsonl",
                       url_field="url", date_field="timestamp")
    _same(fast, slow)
    assert len(fast.rows) == src.count(b"\n") == 1000
    first = json.loads(src.split(b"\n", 1)[0])
    row = fast.rows[0]
    assert row["text"] == first["text"]
    assert row["content_sha256"] == hashlib.sha256(first["text"].encode()).hexdigest()
    assert row["id"] == derived_id("src", "c4.jsonl", 1)
    assert row["source_uri"] == first["url"]
    assert row["metadata"] is None


def test_real_dolma_with_unmapped_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dolma documents carry fields nobody mapped: they go to metadata the same way."""
    files = sorted(need(DOLMA).rglob("*.json.gz"))
    if not files:
        pytest.skip(f"no Dolma .json.gz under {DOLMA}")
    (tmp_path / "d.jsonl.gz").write_bytes(files[0].read_bytes())
    fast, slow = _both(tmp_path, monkeypatch, format="jsonl", path="d.jsonl.gz")
    _same(fast, slow)
    assert fast.rows
    assert all(r["metadata"] for r in fast.rows)


def _loads(line: str) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in str(exc):  # a lone surrogate: read and kept (docs/sources.md)
            return json.loads(line)
        return None


_VALID = st.one_of(
    st.builds(lambda t, u: json.dumps({"text": t, "url": u}), st.text(max_size=40),
              st.one_of(st.none(), st.just(""), st.text(max_size=10), st.integers())),
    st.builds(lambda t, x: json.dumps({"text": t, "x": x}, ensure_ascii=False),
              st.text(max_size=40), st.one_of(st.integers(), st.lists(st.booleans()))),
)
_BAD = st.sampled_from([
    "", "   ", "{not json", "[1, 2]", '"a string"', '{"url": "no text"}', '{"text": null}',
    '{"text": 5}', '{"text": "lone \\ud800 surrogate"}',
])
#: Mostly good lines (whole blocks take the fast path), with a few bad ones put anywhere.
_LINES = st.builds(
    lambda good, bad: _insert(good, bad),
    st.lists(_VALID, min_size=1, max_size=200),
    st.lists(st.tuples(st.integers(0, 200), _BAD), max_size=4),
)


def _insert(good: list[str], bad: list[tuple[int, str]]) -> list[str]:
    out = list(good)
    for at, line in bad:
        out.insert(min(at, len(out)), line)
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=_LINES, batch=st.integers(1, 100))
def test_generated_lines_same_either_way(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[str],
    batch: int,
) -> None:
    folder = tmp_path_factory.mktemp("blocks")
    # a valid record first, so a wrong text_field is not what the input is taken to mean
    body = "\n".join([json.dumps({"text": "first"}), *lines]) + "\n"
    (folder / "x.jsonl").write_text(body, encoding="utf-8")
    fast, slow = _both(folder, monkeypatch, format="jsonl", path="x.jsonl", url_field="url",
                       batch_size=batch)
    _same(fast, slow)
    good = sum(
        1 for line in lines
        if isinstance(obj := _loads(line), dict) and isinstance(obj.get("text"), str)
    )
    assert len(fast.rows) == 1 + good


def test_a_line_longer_than_many_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A line spanning many read blocks (and a last line without a newline) is read whole."""
    from datasteward.sources import _io

    long_text = "é" * 3_000_000  # 6 MB of UTF-8, > 20 blocks of BLOCK_BYTES
    lines = [json.dumps({"text": "first"}), json.dumps({"text": long_text}),
             json.dumps({"text": "last"})]
    (tmp_path / "x.jsonl").write_text("\n".join(lines), encoding="utf-8")
    assert len(long_text.encode()) > 20 * _io.BLOCK_BYTES
    fast, slow = _both(tmp_path, monkeypatch, format="jsonl", path="x.jsonl")
    _same(fast, slow)
    assert [r["text"] for r in fast.rows] == ["first", long_text, "last"]
    assert [r["id"] for r in fast.rows] == [derived_id("src", "x.jsonl", i) for i in (1, 2, 3)]


def test_metadata_orjson_cannot_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """orjson reads 1,024 levels of nesting but writes only 254: deeper metadata is still kept
    (written by the standard library), and only what no encoder can write is quarantined."""
    deep = "[" * 300 + "]" * 300  # orjson.dumps refuses this; json.dumps does not
    too_deep = "[" * 1010 + "]" * 1010  # orjson.loads reads it; no encoder writes it back
    lines = [json.dumps({"text": f"t{i}", "i": i}) for i in range(100)]
    lines[10] = '{"text": "deep", "m": ' + deep + "}"
    lines[70] = '{"text": "too deep", "m": ' + too_deep + "}"
    (tmp_path / "x.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast, slow = _both(tmp_path, monkeypatch, format="jsonl", path="x.jsonl")
    _same(fast, slow)
    assert len(fast.rows) == 99  # every line but the one too deep
    kept = {r["text"]: r for r in fast.rows}
    assert json.loads(kept["deep"]["metadata"]) == {"m": json.loads(deep)}
    assert json.loads(kept["t11"]["metadata"]) == {"i": 11}
    [bad] = fast.bad
    assert bad.where == "line 71"
    assert "cannot be kept as metadata" in bad.error
