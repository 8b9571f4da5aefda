"""JSON Lines reader on real data: counts, stable ids, hashes, provenance, and bad input."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sources_helpers import C4, DCLM, DOLMA, need, read

from datasteward.errors import RecordError, SourceError
from datasteward.sources import strict_on_bad

C4_KEYS = dict(format="jsonl", text_field="text", url_field="url", date_field="timestamp")


def _c4_lines() -> list[bytes]:
    return need(C4).read_bytes().splitlines()


def test_c4_sample_reads_every_document_with_provenance(tmp_path: Path) -> None:
    shutil.copy(need(C4), tmp_path / "c4.jsonl")
    res = read(tmp_path, path="*.jsonl", license="ODC-By-1.0", **C4_KEYS)
    src = [orjson.loads(line) for line in _c4_lines()]
    assert len(res.rows) == len(src) == 1000
    assert not res.bad
    # SOURCE.md: 1,000 unique URLs, 2,189,457 text characters in all
    assert len({r["source_uri"] for r in res.rows}) == 1000
    assert sum(len(r["text"]) for r in res.rows) == 2_189_457
    for row, doc in zip(res.rows, src, strict=True):
        assert row["text"] == doc["text"]
        assert row["content_sha256"] == hashlib.sha256(doc["text"].encode()).hexdigest()
        assert row["source_uri"] == doc["url"]
        assert row["retrieved_at"].strftime("%Y-%m-%d %H:%M:%S") == doc["timestamp"]
        assert row["source"] == "src" and row["license"] == "ODC-By-1.0"
        assert row["license_evidence"] == "source default (src)"
        assert row["consent"] == "unknown"
        assert row["metadata"] is None  # url and timestamp were mapped, nothing else is left
    dates = [r["retrieved_at"] for r in res.rows]
    assert min(dates).date().isoformat() == "2019-04-18"
    assert max(dates).date().isoformat() == "2019-04-26"


def test_ids_are_unique_and_stable_across_reads(tmp_path: Path) -> None:
    shutil.copy(need(C4), tmp_path / "c4.jsonl")
    first = read(tmp_path, path="*.jsonl", **C4_KEYS)
    second = read(tmp_path, path="*.jsonl", batch_size=7, **C4_KEYS)
    ids = [r["id"] for r in first.rows]
    assert len(set(ids)) == 1000
    assert ids == [r["id"] for r in second.rows]
    assert all(i.startswith("src:") for i in ids)


def test_unmapped_fields_go_to_metadata(tmp_path: Path) -> None:
    shutil.copy(need(C4), tmp_path / "c4.jsonl")
    res = read(tmp_path, path="*.jsonl", format="jsonl")
    first = orjson.loads(_c4_lines()[0])
    assert orjson.loads(res.rows[0]["metadata"]) == {
        "timestamp": first["timestamp"],
        "url": first["url"],
    }
    assert res.rows[0]["source_uri"] is None and res.rows[0]["retrieved_at"] is None


def test_dclm_files_counts_per_source_md(tmp_path: Path) -> None:
    need(DCLM)
    res = read(tmp_path, path=str(DCLM / "*.jsonl"), format="jsonl")
    # SOURCE.md: agreement_data 281 rows, majority_data 499 rows; files sorted by name
    assert [s.location.rsplit("/", 1)[-1] for s in res.shards] == [
        "agreement_data.jsonl",
        "majority_data.jsonl",
    ]
    assert len(res.rows) == 281 + 499
    labels = [orjson.loads(r["metadata"])["label"] for r in res.rows]
    assert labels[:281].count(1) == 152 and labels[281:].count(1) == 272
    # the agreement rows are a subset of the majority rows: same text, same hash, other ids
    agreement = {r["content_sha256"] for r in res.rows[:281]}
    majority = {r["content_sha256"] for r in res.rows[281:]}
    assert agreement <= majority
    assert len({r["id"] for r in res.rows}) == 780


def test_dolma_gzipped_jsonl_with_nested_url_field(tmp_path: Path) -> None:
    need(DOLMA)
    res = read(
        tmp_path,
        path=str(DOLMA / "multiple_files" / "*.jsonl.gz"),
        format="jsonl",
        id_field="id",
        url_field="metadata.url",
        date_field="created",
    )
    assert len(res.rows) == 20  # SOURCE.md: 10 docs in each file
    assert not res.bad
    assert all(r["source_uri"] and r["source_uri"].startswith("http") for r in res.rows)
    assert all(r["retrieved_at"] is not None and r["retrieved_at"].year == 2020 for r in res.rows)
    meta = orjson.loads(res.rows[0]["metadata"])
    assert "url" not in meta["metadata"] and meta["metadata"]["bucket"] == "head"


# --- bad input -------------------------------------------------------------------------------


def test_broken_line_is_quarantined_and_neighbours_kept(tmp_path: Path) -> None:
    lines = _c4_lines()
    broken = lines[:10] + [lines[10][: len(lines[10]) // 2]] + lines[11:]
    (tmp_path / "c4.jsonl").write_bytes(b"\n".join(broken) + b"\n")
    res = read(tmp_path, path="c4.jsonl", **C4_KEYS)
    assert len(res.rows) == 999
    assert len(res.bad) == 1
    msg = res.bad[0].message()
    assert msg.startswith("c4.jsonl, line 11: invalid JSON")
    kept = {r["text"] for r in res.rows}
    assert orjson.loads(lines[9])["text"] in kept and orjson.loads(lines[11])["text"] in kept
    assert orjson.loads(lines[10])["text"] not in kept


def test_invalid_utf8_line_is_named(tmp_path: Path) -> None:
    lines = _c4_lines()
    latin1 = json.dumps({"text": "Café olé"}, ensure_ascii=False).encode("latin-1")
    (tmp_path / "c4.jsonl").write_bytes(b"\n".join([*lines[:5], latin1, *lines[5:]]) + b"\n")
    res = read(tmp_path, path="c4.jsonl", **C4_KEYS)
    assert len(res.rows) == 1000
    assert [b.where for b in res.bad] == ["line 6"]
    assert "invalid UTF-8" in res.bad[0].error and "0xe9" in res.bad[0].error


def _compress(kind: str, data: bytes) -> bytes:
    import bz2
    import lzma

    import zstandard

    return {
        "gz": gzip.compress,
        "zst": zstandard.ZstdCompressor().compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
    }[kind](data)


@pytest.mark.parametrize("kind", ["gz", "zst", "bz2", "xz"])
def test_compressed_jsonl_reads_whole(tmp_path: Path, kind: str) -> None:
    (tmp_path / f"c4.jsonl.{kind}").write_bytes(_compress(kind, need(C4).read_bytes()))
    res = read(tmp_path, path=f"*.{kind}", **C4_KEYS)
    assert len(res.rows) == 1000 and not res.bad


@pytest.mark.parametrize("kind", ["gz", "zst", "bz2", "xz"])
def test_truncated_stream_keeps_records_before_the_cut(tmp_path: Path, kind: str) -> None:
    data = _compress(kind, need(C4).read_bytes())
    (tmp_path / f"c4.jsonl.{kind}").write_bytes(data[: len(data) // 2])
    res = read(tmp_path, path=f"*.{kind}", **C4_KEYS)
    src = [orjson.loads(line)["text"] for line in _c4_lines()]
    n = len(res.rows)
    assert 0 < n < 1000
    assert [r["text"] for r in res.rows] == src[:n]  # every record before the cut, in order
    assert len(res.bad) == 1
    assert res.bad[0].where == f"line {n + 1}"
    assert "ends early" in res.bad[0].error and "compressed offset" in res.bad[0].error


def test_record_missing_its_text_field_is_quarantined(tmp_path: Path) -> None:
    lines = _c4_lines()
    doc = orjson.loads(lines[3])
    del doc["text"]
    lines[3] = orjson.dumps(doc)
    nulled = orjson.loads(lines[7])
    nulled["text"] = None
    lines[7] = orjson.dumps(nulled)
    (tmp_path / "c4.jsonl").write_bytes(b"\n".join(lines))
    res = read(tmp_path, path="c4.jsonl", **C4_KEYS)
    assert len(res.rows) == 998
    assert [(b.where, b.error) for b in res.bad] == [
        ("line 4", "no field `text`"),
        ("line 8", "the field `text` is null"),
    ]


def test_wrong_text_field_lists_the_fields_that_exist(tmp_path: Path) -> None:
    shutil.copy(need(C4), tmp_path / "c4.jsonl")
    with pytest.raises(SourceError) as err:
        read(tmp_path, path="c4.jsonl", format="jsonl", text_field="content")
    msg = str(err.value)
    assert "text_field = 'content'" in msg and "c4.jsonl" in msg
    assert "text, timestamp, url" in msg


def test_strict_mode_raises_on_the_first_bad_line(tmp_path: Path) -> None:
    lines = _c4_lines()
    (tmp_path / "c4.jsonl").write_bytes(b"\n".join([*lines[:2], b"{not json", *lines[2:]]))
    with pytest.raises(RecordError, match=r"c4\.jsonl, line 3: invalid JSON"):
        read(tmp_path, path="c4.jsonl", on_bad=strict_on_bad, **C4_KEYS)


def test_non_object_line_and_blank_lines(tmp_path: Path) -> None:
    lines = _c4_lines()[:20]
    (tmp_path / "c4.jsonl").write_bytes(
        b"\n".join([*lines[:4], b"", b"[1, 2]", b"   ", *lines[4:]])
    )
    res = read(tmp_path, path="c4.jsonl", **C4_KEYS)
    assert len(res.rows) == 20
    assert [(b.where, b.error) for b in res.bad] == [("line 6", "expected a JSON object, got list")]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    corrupt=st.lists(
        st.tuples(
            st.integers(0, 199),
            st.sampled_from(
                [b"{", b"\xff\xfe", b'{"text": 3}', b'{"nope": "x"}', b"null", b'"str"', b"{}x"]
            ),
        ),
        max_size=30,
    )
)
def test_read_plus_quarantined_equals_lines(
    tmp_path_factory: pytest.TempPathFactory, corrupt: list[tuple[int, bytes]]
) -> None:
    folder = tmp_path_factory.mktemp("h")
    lines = _c4_lines()[:200]
    for pos, junk in sorted(corrupt, reverse=True):
        lines.insert(pos, junk)
    (folder / "c4.jsonl").write_bytes(b"\n".join(lines))
    res = read(folder, path="c4.jsonl", batch_size=64, **C4_KEYS)
    assert len(res.rows) + len(res.bad) == len(lines)
    assert len(res.rows) == 200
    assert all(b.where.startswith("line ") for b in res.bad)
