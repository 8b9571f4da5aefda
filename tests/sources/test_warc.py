"""WARC and WET on the Dolma and Common Crawl files, and broken WARCs."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import orjson
import pytest
from sources_helpers import DOLMA, WHIRLWIND, need, read


def test_dolma_warcs_give_every_html_response(tmp_path: Path) -> None:
    need(DOLMA)
    res = read(tmp_path, path=str(DOLMA / "warc" / "*.warc.gz"), format="warc")
    # SOURCE.md: 22 + 15 responses, all HTTP 200 text/html; requests/metadata/resources are not
    assert len(res.rows) == 37 and not res.bad
    assert len({r["id"] for r in res.rows}) == 37
    for r in res.rows:
        meta = orjson.loads(r["metadata"])
        assert meta["http_status"] == 200 and meta["content_type"] == "text/html"
        assert r["id"] == f"src:{meta['warc_record_id']}" and meta["warc_record_id"].startswith(
            "urn:uuid:"
        )
        assert r["source_uri"].startswith("https://") and not r["source_uri"].startswith("<")
        assert r["retrieved_at"].year == 2024
        assert r["content_sha256"] == hashlib.sha256(r["text"].encode()).hexdigest()
        assert "content-type" in meta["http_headers"]
        assert "<html" not in r["text"].lower()
    by_uri = {r["source_uri"]: r for r in res.rows}
    assert (
        "Semantic Scholar"
        in by_uri["https://www.semanticscholar.org/research/research-team"]["text"]
    )


def test_warc_and_wet_of_the_same_page_link_up(tmp_path: Path) -> None:
    need(WHIRLWIND)
    warc = read(tmp_path, path=str(WHIRLWIND / "whirlwind.warc.gz"), format="warc")
    wet = read(tmp_path, path=str(WHIRLWIND / "whirlwind.warc.wet.gz"), format="warc")
    assert len(warc.rows) == 1 and len(wet.rows) == 1
    page, conv = warc.rows[0], wet.rows[0]
    assert page["source_uri"] == conv["source_uri"] == "https://an.wikipedia.org/wiki/Escopete"
    wmeta, cmeta = orjson.loads(page["metadata"]), orjson.loads(conv["metadata"])
    assert cmeta["refers_to"] == wmeta["warc_record_id"]  # WARC-Refers-To links them
    assert len(conv["text"].encode()) == 4456  # SOURCE.md: the conversion block is 4,456 bytes
    assert wmeta["http_headers"]["content-language"] == "an"
    assert len(wmeta["http_headers"]["set-cookie"].split(", ")) >= 2  # repeated headers joined
    assert "Escopete" in page["text"]
    # main-content extraction is much shorter than the page and drops the navigation
    none = read(
        tmp_path,
        path=str(WHIRLWIND / "whirlwind.warc.gz"),
        format="warc",
        options={"extract": "none"},
    )
    assert none.rows[0]["text"].lstrip().lower().startswith("<!doctype html")
    assert len(page["text"]) < len(none.rows[0]["text"]) / 5


def test_trafilatura_extractor_option(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura")
    res = read(
        tmp_path,
        path=str(need(WHIRLWIND) / "whirlwind.warc.gz"),
        format="warc",
        options={"extract": "trafilatura"},
    )
    assert "Escopete" in res.rows[0]["text"]
    assert orjson.loads(res.rows[0]["metadata"])["extractor"] == "trafilatura"


def _dolma0() -> bytes:
    return need(DOLMA / "warc" / "sample-0000.warc.gz").read_bytes()


def test_flipped_bytes_quarantine_one_record_and_keep_the_rest(tmp_path: Path) -> None:
    data = bytearray(_dolma0())
    for i in range(20000, 20040):  # inside the gzip member of the 2nd response (offset 15904)
        data[i] ^= 0xFF
    (tmp_path / "bad.warc.gz").write_bytes(bytes(data))
    good = read(tmp_path / "..", path=str(DOLMA / "warc" / "sample-0000.warc.gz"), format="warc")
    res = read(tmp_path, path="bad.warc.gz", format="warc")
    assert len(res.rows) == 21
    assert [r["id"] for r in res.rows] == [r["id"] for i, r in enumerate(good.rows) if i != 1]
    assert len(res.bad) == 1
    assert res.bad[0].file == "bad.warc.gz" and res.bad[0].where == "offset 15904"
    assert "unreadable WARC record" in res.bad[0].error and "resumes at offset" in res.bad[0].error


def test_truncated_warc_gz_keeps_records_before(tmp_path: Path) -> None:
    data = _dolma0()
    (tmp_path / "cut.warc.gz").write_bytes(data[:100_000])
    res = read(tmp_path, path="cut.warc.gz", format="warc")
    assert 0 < len(res.rows) < 22
    assert len(res.bad) == 1 and "truncated" in res.bad[0].error
    assert res.bad[0].where.startswith("offset ")
    assert int(res.bad[0].where.split()[1]) < 100_000


def test_broken_header_in_uncompressed_warc(tmp_path: Path) -> None:
    raw = bytearray(gzip.decompress(_dolma0()))
    at = raw.find(b"WARC/1.0", 30000)
    raw[at : at + 8] = b"XXXX/1.0"
    (tmp_path / "x.warc").write_bytes(bytes(raw))
    res = read(tmp_path, path="x.warc", format="warc")
    assert len(res.bad) == 1 and res.bad[0].where == f"offset {at}"
    damaged_response = b"WARC-Type: response" in raw[at : at + 100]
    assert len(res.rows) == 22 - damaged_response  # every record but the damaged one is kept


def test_oversized_body_is_quarantined_unread(tmp_path: Path) -> None:
    shutil.copy(_path := need(DOLMA / "warc" / "sample-0000.warc.gz"), tmp_path / "a.warc.gz")
    res = read(tmp_path, path="a.warc.gz", format="warc", options={"max_body_bytes": 50_000})
    assert len(res.rows) + len(res.bad) == 22
    assert len(res.bad) == 4  # responses of 87,229 / 56,016 / 97,384 / 202,531 bytes
    assert all("over max_body_bytes (50000)" in b.error for b in res.bad)
    assert _path.exists()
