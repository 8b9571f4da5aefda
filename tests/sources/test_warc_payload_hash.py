"""The WARC reader keeps the sha256 of each response's HTTP body (``payload_sha256``).

Checked against a hash computed without FastWARC: the Common Crawl record is read with gzip
and split at the end of its WARC and HTTP headers by hand; the WARC-Payload-Digest Common
Crawl wrote (sha1, base32) confirms that the hand-cut body is the page as served.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
from pathlib import Path

import orjson
from sources_helpers import DOLMA, WHIRLWIND, need, read


def _response_by_hand(path: Path) -> tuple[str, bytes, bytes]:
    """(target URI, WARC-Payload-Digest, HTTP body) of the file's one response record."""
    raw = gzip.GzipFile(fileobj=io.BytesIO(path.read_bytes())).read()  # all members
    for block in re.split(rb"(?=WARC/1\.[01]\r\n)", raw):
        head, _, rest = block.partition(b"\r\n\r\n")
        if b"WARC-Type: response" not in head:
            continue
        fields = dict(
            line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line
        )
        length = int(fields[b"Content-Length"])
        http = rest[:length]
        _, _, body = http.partition(b"\r\n\r\n")
        return fields[b"WARC-Target-URI"].decode(), fields[b"WARC-Payload-Digest"], body
    raise AssertionError(f"no response record in {path}")


def test_payload_sha256_is_the_hash_of_the_served_body(tmp_path: Path) -> None:
    warc = need(WHIRLWIND / "whirlwind.warc.gz")
    uri, digest, body = _response_by_hand(warc)
    # the hand-cut body is what Common Crawl says it stored (sha1 in base32)
    assert digest == b"sha1:" + base64.b32encode(hashlib.sha1(body).digest())
    res = read(tmp_path, path=str(warc), format="warc")
    (row,) = res.rows
    meta = orjson.loads(row["metadata"])
    assert row["source_uri"] == uri
    assert meta["payload_sha256"] == hashlib.sha256(body).hexdigest()
    # the text hash is another thing: the extracted text, not the page
    assert row["content_sha256"] != meta["payload_sha256"]
    assert meta["extractor"] == "resiliparse" and meta["charset"] == "utf-8"


def test_every_response_has_a_payload_hash_and_wet_text_has_none(tmp_path: Path) -> None:
    need(DOLMA)
    need(WHIRLWIND)
    res = read(tmp_path, path=str(DOLMA / "warc" / "*.warc.gz"), format="warc")
    metas = [orjson.loads(r["metadata"]) for r in res.rows]
    hashes = [m["payload_sha256"] for m in metas]
    assert len(hashes) == 37 and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    # three captures of https://allenai.org/ (SOURCE.md lists them): distinct records
    by_uri: dict[str, set[str]] = {}
    for r, m in zip(res.rows, metas, strict=True):
        by_uri.setdefault(r["source_uri"], set()).add(m["payload_sha256"])
    assert len(by_uri["https://allenai.org/"]) >= 2
    # a WET conversion record is text Common Crawl extracted, not an HTTP body: no payload hash
    wet = read(tmp_path, path=str(WHIRLWIND / "whirlwind.warc.wet.gz"), format="warc")
    assert "payload_sha256" not in orjson.loads(wet.rows[0]["metadata"])
