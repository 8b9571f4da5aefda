"""Hostile input to the source readers: decompression bombs, huge lines, floods of blank lines.

Each bomb is generated small but with the ratio of the real one (a few KB that decode to
megabytes) and read with a LOWERED limit, so a test takes well under a second and little memory:
what is checked is that the limit applies to the DECODED size, that the record is quarantined
with an entry naming the file, the place and the limit, and that the records around it are kept.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import orjson
import pytest
from source_kit import read

# --- WARC: Content-Encoding bombs -------------------------------------------------------------

def _warc_response(uri: str, body: bytes, *, encoding: str | None) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    if encoding:
        http += f"Content-Encoding: {encoding}\r\n".encode()
    http += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{abs(hash(uri)):032x}>\r\n"
        "WARC-Date: 2024-05-18T01:58:10Z\r\n"
        f"WARC-Target-URI: {uri}\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    ).encode()
    return head + http + b"\r\n\r\n"


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 15)
    return c.compress(data) + c.flush()


def _bomb_warc(path: Path, *, encoding: str, gz: bool) -> int:
    """good page, a bomb (8 MiB of text in a few KB), good page; returns the bomb's offset."""
    decoded = b"A" * (8 << 20)
    body = gzip.compress(decoded, 9) if encoding == "gzip" else _deflate(decoded)
    assert len(body) < 64 << 10  # the ratio of a real bomb: ~1000:1
    records = [
        _warc_response("https://good.example/1", b"first page", encoding=None),
        _warc_response("https://bomb.example/", body, encoding=encoding),
        _warc_response("https://good.example/2", gzip.compress(b"second page"), encoding="gzip"),
    ]
    out = b""
    offsets = []
    for r in records:
        offsets.append(len(out))
        out += gzip.compress(r) if gz else r
    path.write_bytes(out)
    return offsets[1]


def _check_bomb(tmp_path: Path, *, encoding: str, gz: bool) -> None:
    name = "bomb.warc.gz" if gz else "bomb.warc"
    offset = _bomb_warc(tmp_path / name, encoding=encoding, gz=gz)
    rows, bad = read(tmp_path, path=name, format="warc",
                     options={"max_body_bytes": 1 << 20})  # the compressed body is far below
    assert [r["text"][:20] for r in rows] == ["first page", "second page"]
    assert len(bad) == 1, bad
    (b,) = bad
    assert b.file == name and b.where == f"offset {offset}"
    assert "max_body_bytes (1048576)" in b.error and encoding in b.error
    assert "decoded" in b.error


def test_warc_gzip_content_encoding_is_bounded_after_decoding(tmp_path: Path) -> None:
    _check_bomb(tmp_path, encoding="gzip", gz=True)


def test_warc_deflate_content_encoding_is_bounded_after_decoding(tmp_path: Path) -> None:
    _check_bomb(tmp_path, encoding="deflate", gz=False)


# --- JSON Lines: one huge line, floods of blank lines ---------------------------------------

def _jsonl(*texts: str) -> bytes:
    return b"".join(orjson.dumps({"text": t}) + b"\n" for t in texts)


def test_jsonl_gz_huge_line_is_quarantined_and_reading_goes_on(tmp_path: Path) -> None:
    # 8 MiB of one line in ~8 KB of gzip, read with max_line_bytes = 1 MiB: the line is
    # quarantined (file, line number, the size seen, the limit) and the next lines are read
    huge = b'{"text": "' + b"x" * (8 << 20) + b'"}\n'
    data = _jsonl("one", "two") + huge + _jsonl("four", "five")
    (tmp_path / "big.jsonl.gz").write_bytes(gzip.compress(data, 9))
    rows, bad = read(tmp_path, path="big.jsonl.gz", format="jsonl",
                     options={"max_line_bytes": 1 << 20})
    assert [r["text"] for r in rows] == ["one", "two", "four", "five"]
    assert len(bad) == 1
    (b,) = bad
    assert b.file == "big.jsonl.gz" and b.where == "line 3"
    assert f"{len(huge) - 1} bytes" in b.error and "max_line_bytes (1048576)" in b.error
    assert b.raw.startswith(b'{"text": "xxx') and len(b.raw) <= 4096
    # the records after it keep their own line numbers (ids are derived from them)
    first = read(tmp_path, path="big.jsonl.gz", format="jsonl")  # default limit: all read
    assert len(first[0]) == 5 and not first[1]
    assert [r["id"] for r in first[0][3:]] == [r["id"] for r in rows[2:]]


def test_jsonl_huge_line_in_plain_file_and_at_the_end(tmp_path: Path) -> None:
    huge = b'{"text": "' + b"y" * (3 << 20)  # no newline: the file ends inside it
    (tmp_path / "big.jsonl").write_bytes(_jsonl("one") + huge)
    rows, bad = read(tmp_path, path="big.jsonl", format="jsonl",
                     options={"max_line_bytes": 1 << 20})
    assert [r["text"] for r in rows] == ["one"]
    assert [(b.where, f"{len(huge)} bytes" in b.error) for b in bad] == [("line 2", True)]


def test_json_lines_in_a_json_source_are_bounded_too(tmp_path: Path) -> None:
    huge = b'{"text": "' + b"z" * (2 << 20) + b'"}\n'
    (tmp_path / "d.json.gz").write_bytes(gzip.compress(_jsonl("a") + huge + _jsonl("c")))
    rows, bad = read(tmp_path, path="d.json.gz", format="json",
                     options={"max_line_bytes": 1 << 20})
    assert [r["text"] for r in rows] == ["a", "c"]
    assert [b.where for b in bad] == ["line 2"] and "max_line_bytes" in bad[0].error


def test_blank_line_flood_is_skipped_by_block_not_by_line(tmp_path: Path) -> None:
    # 1.5 GiB of blank lines took over 15 minutes: each blank line went through Python. Here
    # 1.25 Mi blank lines (plain and CRLF) between records must reach the reader as few items,
    # not as millions of lines, and the records after them keep their line numbers.
    from datasteward.sources._io import line_blocks, open_stream

    blanks = b"\n" * (1 << 20) + b"\r\n" * (1 << 18)
    data = _jsonl("one") + blanks + _jsonl("two") + b" \n" * 1000 + _jsonl("three")
    (tmp_path / "blank.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "blank.jsonl").write_bytes(data)
    for name in ("blank.jsonl.gz", "blank.jsonl"):
        with open_stream(str(tmp_path / name)) as stream:
            items = list(line_blocks(stream))
        lines = [x for it in items if isinstance(it, list) for x in it]
        assert len(lines) < 1000, (name, len(lines))
        rows, bad = read(tmp_path, path=name, format="jsonl")
        assert [r["text"] for r in rows] == ["one", "two", "three"] and not bad
        two = 2 + (1 << 20) + (1 << 18)
        assert rows[1]["id"].endswith(f":{two}") and rows[2]["id"].endswith(f":{two + 1001}")


def test_zstd_bomb_is_decoded_a_bounded_slice_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # zstandard's decompressobj has no output bound: 64 MiB of one line in ~2 KB came out of
    # one call. The reader feeds it small slices (ZSTD_INPUT_BYTES; lowered here to 64 bytes,
    # which bounds a call to 2 MiB), so the line bound applies before the memory is spent
    import zstandard

    from datasteward.sources import _io

    monkeypatch.setattr(_io, "ZSTD_INPUT_BYTES", 64, raising=False)
    huge = b'{"text": "' + b"z" * (64 << 20) + b'"}\n'
    data = _jsonl("a") + huge + _jsonl("c")
    (tmp_path / "z.jsonl.zst").write_bytes(zstandard.ZstdCompressor(level=19).compress(data))
    assert (tmp_path / "z.jsonl.zst").stat().st_size < 16 << 10
    with _io.open_stream(str(tmp_path / "z.jsonl.zst")) as stream:
        sizes = [len(c) for c in stream.chunks()]
    assert sum(sizes) == len(data) and max(sizes) <= 2 << 20
    rows, bad = read(tmp_path, path="z.jsonl.zst", format="jsonl",
                     options={"max_line_bytes": 1 << 20})
    assert [r["text"] for r in rows] == ["a", "c"]
    assert [b.where for b in bad] == ["line 2"]


def test_warc_gz_bomb_as_the_last_record_is_not_decoded_whole(tmp_path: Path) -> None:
    # a 64 MiB body in a ~64 KB gzip member, last in the file: the record is quarantined
    # unread (max_body_bytes), and the check that the file is complete after the last record
    # must not decode the member in one call either (it did: 64 MiB at once)
    import tracemalloc

    bomb = _warc_response("https://bomb.example/", b"\0" * (64 << 20), encoding=None)
    good = _warc_response("https://good.example/1", b"first page", encoding=None)
    (tmp_path / "b.warc.gz").write_bytes(gzip.compress(good) + gzip.compress(bomb, 9))
    tracemalloc.start()
    try:
        rows, bad = read(tmp_path, path="b.warc.gz", format="warc",
                         options={"max_body_bytes": 1 << 20})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r["text"] for r in rows] == ["first page"]
    assert len(bad) == 1 and "over max_body_bytes (1048576)" in bad[0].error
    assert peak < 16 << 20, peak


def test_text_file_bomb_stops_at_max_bytes(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.txt").write_text("a small file")
    (tmp_path / "t" / "b.txt.gz").write_bytes(gzip.compress(b"x" * (32 << 20), 9))
    rows, bad = read(tmp_path, path="t/*", format="text", options={"max_bytes": 1 << 20})
    assert [r["text"] for r in rows] == ["a small file"]
    assert [b.file for b in bad] == ["t/b.txt.gz"] and "max_bytes (1048576)" in bad[0].error
