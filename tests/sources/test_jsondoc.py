"""The ``json`` format: JSON arrays, and Dolma's .json.gz (which are JSON Lines)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
from sources_helpers import C4, DOLMA, need, read


def test_dolma_documents_json_gz(tmp_path: Path) -> None:
    path = need(DOLMA / "provided" / "documents" / "000.json.gz")
    res = read(tmp_path, path=str(path), format="json", id_field="id", date_field="created")
    src = [orjson.loads(x) for x in gzip.decompress(path.read_bytes()).splitlines()]
    assert len(res.rows) == len(src) == 10 and not res.bad  # SOURCE.md: 10 docs
    assert [r["id"] for r in res.rows] == [f"src:{d['id']}" for d in src]
    assert [r["text"] for r in res.rows] == [d["text"] for d in src]


def _c4_docs(n: int) -> list[dict[str, str]]:
    return [orjson.loads(x) for x in need(C4).read_bytes().splitlines()[:n]]


def test_json_array_file(tmp_path: Path) -> None:
    docs = _c4_docs(40)
    (tmp_path / "c4.json").write_text(json.dumps(docs, indent=2))
    res = read(tmp_path, path="c4.json", format="json", url_field="url", date_field="timestamp")
    assert [r["text"] for r in res.rows] == [d["text"] for d in docs]
    assert [r["source_uri"] for r in res.rows] == [d["url"] for d in docs]


def test_broken_array_element_keeps_the_others(tmp_path: Path) -> None:
    docs = _c4_docs(30)
    text = json.dumps(docs, indent=2)
    # break element 12: cut its "url" value's closing quote
    url = docs[11]["url"]
    text = text.replace(f'"url": "{url}"', f'"url": "{url}', 1)
    (tmp_path / "c4.json").write_text(text)
    res = read(tmp_path, path="c4.json", format="json")
    assert [r["text"] for r in res.rows] == [d["text"] for i, d in enumerate(docs) if i != 11]
    assert len(res.bad) == 1
    assert res.bad[0].where.startswith("element 12, line ")
    assert "invalid JSON" in res.bad[0].error


def test_unparseable_date_is_kept_in_metadata(tmp_path: Path) -> None:
    docs = _c4_docs(5)
    docs[2]["timestamp"] = "sometime in April"
    (tmp_path / "c4.json").write_text(json.dumps(docs))
    res = read(tmp_path, path="c4.json", format="json", date_field="timestamp")
    assert len(res.rows) == 5
    assert res.rows[2]["retrieved_at"] is None
    assert orjson.loads(res.rows[2]["metadata"])["timestamp"] == "sometime in April"
    assert res.rows[1]["retrieved_at"] is not None
    assert "timestamp" not in orjson.loads(res.rows[1]["metadata"])


def test_consent_and_attribution_fields_and_a_byte_order_mark(tmp_path: Path) -> None:
    docs = _c4_docs(6)
    for i, d in enumerate(docs):
        d["consent"] = "explicit" if i % 2 else ""
        d["author"] = f"author {i}" if i != 3 else None
    body = b"\n".join(orjson.dumps(d) for d in docs)
    (tmp_path / "c4.jsonl").write_bytes(b"\xef\xbb\xbf" + body)  # exported with a BOM
    res = read(
        tmp_path,
        path="c4.jsonl",
        format="jsonl",
        consent_field="consent",
        attribution_field="author",
        consent="unknown",
        attribution="C4 authors",
    )
    assert not res.bad and len(res.rows) == 6
    assert [r["consent"] for r in res.rows] == ["unknown", "explicit"] * 3  # "" -> default
    assert [r["attribution"] for r in res.rows] == [
        "author 0",
        "author 1",
        "author 2",
        "C4 authors",
        "author 4",
        "author 5",
    ]


def test_lone_surrogate_in_unmapped_field_is_kept_escaped(tmp_path: Path) -> None:
    """orjson rejects a lone surrogate escape, so the array is read element by element by
    the standard library, which accepts it; orjson cannot write it back, so the metadata is
    written with it escaped (and the date that could not be read is kept beside it)."""
    doc = '[{"text": "a", "note": "lone \\ud800", "when": "not a date"}, {"text": "b"}]'
    (tmp_path / "x.json").write_text(doc, encoding="ascii")
    r = read(tmp_path, format="json", path="x.json", date_field="when")
    assert not r.bad
    assert [row["text"] for row in r.rows] == ["a", "b"]
    assert r.rows[0]["retrieved_at"] is None
    assert json.loads(r.rows[0]["metadata"]) == {"note": "lone \ud800", "when": "not a date"}
    assert r.rows[1]["metadata"] is None
