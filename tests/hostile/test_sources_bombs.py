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
from typing import Any

import pyarrow as pa

from datasteward.recipe import parse_recipe
from datasteward.sources import SOURCE_SCHEMA, BadRecord, expand_shards, reader_for


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)


def read(
    folder: Path, *, options: dict[str, Any] | None = None, **source: Any
) -> tuple[list[dict[str, Any]], list[BadRecord]]:
    """Read every shard of a one-source recipe (source ``src``) in ``folder``."""
    lines = ["[dataset]", 'name = "t"', "[[sources]]", 'name = "src"']
    lines += [f"{k} = {_toml(v)}" for k, v in source.items()]
    if options:
        lines.append("[sources.options]")
        lines += [f"{k} = {_toml(v)}" for k, v in options.items()]
    path = folder / "datasteward.toml"
    path.write_text("\n".join(lines) + "\n")
    recipe = parse_recipe(path.read_text(), path)
    reader = reader_for(recipe.sources[0], recipe.dir)
    bad: list[BadRecord] = []
    batches = [b for shard in expand_shards(recipe)
               for b in reader.read(shard, batch_size=100, on_bad=bad.append)]
    return pa.Table.from_batches(batches, schema=SOURCE_SCHEMA).to_pylist(), bad


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
