"""Hostile input to the source readers, record by record: a CSV quote that is never closed, a
corrupt Parquet row group, a lone surrogate in a JSONL field. Every record is accounted for:
records in = kept + quarantined, and the good records around a bad one are kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pyarrow as pa
from datafiles import shared
from source_kit import read

# --- CSV: an unclosed quote must not swallow the rest of the file ----------------------------

OPENVERSE = ("image-text", "openverse-cc-images", "sample_images_to_clean.csv")


def test_openverse_with_a_closing_quote_removed_keeps_the_next_rows(
    tmp_path: Path,
) -> None:
    openverse = shared(*OPENVERSE)  # tests/data, else ../shared/data; skips if in neither
    lines = openverse.read_bytes().split(b"\n")
    assert len(lines) == 1901 and lines[-1] == b""  # header, 1899 rows (one line each)
    broken = 950  # data row 950 is line 951 of the file; drop its meta_data's closing quote
    line = lines[broken]
    assert line.count(b'}"') == 1
    lines[broken] = line.replace(b'}"', b"}")
    (tmp_path / "ov.csv").write_bytes(b"\n".join(lines))
    rows, bad = read(tmp_path, path="ov.csv", format="csv", text_field="title",
                     id_field="identifier")
    src = list(csv.DictReader(io.StringIO(openverse.read_text(encoding="utf-8"))))
    assert len(rows) + len(bad) == 1899  # every row accounted for
    assert [b.where for b in bad] == ["row 950, line 951"]
    assert "quote" in bad[0].error and "line 952" in bad[0].error
    assert bad[0].raw.startswith(src[949]["identifier"].encode())
    assert [r["id"] for r in rows] == [f"src:{s['identifier']}" for i, s in enumerate(src)
                                       if i != 949]


def _csv(rows: list[str]) -> str:
    return "id,text\n" + "".join(r + "\n" for r in rows)


def test_an_unclosed_quote_before_1000_plain_rows(tmp_path: Path) -> None:
    # the probe: `row 4, lines 5-1005`, records_in = 4
    good = [f"{i},row number {i}" for i in range(1000)]
    data = _csv(["a,first", "b,second", "c,third", 'd,"the quote of this one never closes', *good])
    (tmp_path / "q.csv").write_text(data)
    # strict quoting (the default): the end of the file inside the quote rejects the row;
    # without it, the csv module would take the rest of the file as the field, and only the
    # row bound (max_row_lines) tells
    for options, where in (({}, "line 1005"),
                           ({"strict_quoting": False, "max_row_lines": 100}, "line 105")):
        rows, bad = read(tmp_path, path="q.csv", format="csv", text_field="text",
                         id_field="id", options=options)
        assert len(rows) == 1003 and len(bad) == 1, options
        assert [r["text"] for r in rows[:3]] == ["first", "second", "third"]
        assert rows[-1]["text"] == "row number 999"
        assert bad[0].where == "row 4, line 5"
        assert where in bad[0].error and "restarts at line 6" in bad[0].error
        assert bad[0].raw == b'd,"the quote of this one never closes\n'


def test_a_quoted_field_past_the_line_bound_is_cut_and_reading_resumes(tmp_path: Path) -> None:
    # a quote left open with quoted fields after it: the parser would pair it with a later
    # quote; the row bound in lines (max_row_lines) cuts it, and the rows after it are kept
    multi = '"m","a text\nover three\nlines"'  # a legitimate multi-line field is kept
    good = [f"{i},row {i}" for i in range(200)]
    data = _csv([multi, 'x,"open', *good, multi])
    (tmp_path / "q.csv").write_text(data)
    rows, bad = read(tmp_path, path="q.csv", format="csv", text_field="text", id_field="id",
                     options={"max_row_lines": 10})
    assert [r["text"] for r in rows][:2] == ["a text\nover three\nlines", "row 0"]
    assert rows[-1]["text"] == "a text\nover three\nlines" and len(rows) == 202
    assert [b.where for b in bad] == ["row 2, line 5"]
    assert "max_row_lines (10)" in bad[0].error and "line 15" in bad[0].error


def test_a_quote_that_closes_on_a_later_row_costs_one_line(tmp_path: Path) -> None:
    # the open quote pairs with the next row's quote: that row is parsed again, not lost
    good = [f'{i},"row ""{i}"" with a quote"' for i in range(200)]
    (tmp_path / "q.csv").write_text(_csv(['x,"open', *good]))
    rows, bad = read(tmp_path, path="q.csv", format="csv", text_field="text", id_field="id")
    assert len(rows) == 200 and rows[0]["text"] == 'row "0" with a quote'
    assert [b.where for b in bad] == ["row 1, line 2"] and "restarts at line 3" in bad[0].error


def test_a_field_past_max_field_chars_resumes_at_the_next_line(tmp_path: Path) -> None:
    good = [f"{i},plain {i}" for i in range(300)]
    data = _csv(["a,first", 'b,"' + "long line\n" * 50, *good])
    (tmp_path / "q.csv").write_text(data)
    rows, bad = read(tmp_path, path="q.csv", format="csv", text_field="text", id_field="id",
                     options={"max_field_chars": 200})
    assert len(rows) == 301 and len(bad) == 1 + 49  # the other 49 lines of it are bad rows
    assert bad[0].where == "row 2, line 3" and "max_field_chars" in bad[0].error
    assert rows[-1]["text"] == "plain 299"


# --- Parquet: a corrupt row group counts as the rows it held --------------------------------

def _parquet_with_a_corrupt_row_group(path: Path, *, group: int) -> None:
    import pyarrow.parquet as pq

    n = 1000
    table = pa.table({"id": [f"r{i}" for i in range(n)],
                      "text": [f"the text of row {i} " * 5 for i in range(n)]})
    pq.write_table(table, path, row_group_size=250)
    col = pq.ParquetFile(path).metadata.row_group(group).column(1)  # its text column
    start = col.dictionary_page_offset or col.data_page_offset
    data = bytearray(path.read_bytes())
    data[start + 20 : start + col.total_compressed_size - 5] = b"\xab" * (
        col.total_compressed_size - 25)
    path.write_bytes(bytes(data))


def test_a_corrupt_row_group_is_quarantined_as_the_rows_it_held(tmp_path: Path) -> None:
    # 1,000 rows in four row groups, the third corrupt: 750 kept + one quarantine entry that
    # stands for 250 records (was: 750 + 1 = 751 records in)
    _parquet_with_a_corrupt_row_group(tmp_path / "p.parquet", group=2)
    rows, bad = read(tmp_path, path="p.parquet", format="parquet", text_field="text",
                     id_field="id")
    assert len(rows) == 750
    assert [r["id"] for r in rows] == [f"src:r{i}" for i in range(1000) if not 500 <= i < 750]
    (b,) = bad
    assert b.records == 250
    assert len(rows) + sum(x.records for x in bad) == 1000
    assert b.where == "row group 2 (rows 501-750)" and "250 rows" in b.error


def test_a_run_counts_the_rows_of_a_corrupt_row_group(tmp_path: Path) -> None:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    _parquet_with_a_corrupt_row_group(tmp_path / "p.parquet", group=1)
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "t"\n[[sources]]\nname = "src"\nformat = "parquet"\n'
        'path = "p.parquet"\ntext_field = "text"\n')
    stats = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run().stats
    assert (stats["records_in"], stats["kept"], stats["quarantined"]) == (1000, 750, 250)


# --- JSONL: a lone surrogate (valid JSON, not valid Unicode) --------------------------------

def test_a_lone_surrogate_in_an_unmapped_field_is_kept_escaped(tmp_path: Path) -> None:
    # docs/sources.md: unmapped strings with lone surrogates are kept, written escaped by the
    # standard library's encoder; orjson refuses to parse them, so the line was quarantined
    lines = [b'{"text": "before"}', b'{"text": "hi", "note": "a \\ud800 b", "n": 1}',
             b'{"text": "after"}']
    (tmp_path / "s.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    rows, bad = read(tmp_path, path="s.jsonl", format="jsonl")
    assert not bad
    assert [r["text"] for r in rows] == ["before", "hi", "after"]
    meta = rows[1]["metadata"]
    assert "\\ud800" in meta  # escaped: the JSON text itself is valid UTF-8
    assert json.loads(meta) == {"note": "a \ud800 b", "n": 1}


def test_a_lone_surrogate_in_mapped_fields_is_replaced(tmp_path: Path) -> None:
    # in the text (and the id and url), a lone surrogate cannot be stored as UTF-8: it
    # becomes U+FFFD, and the content hash is that of the stored text
    line = b'{"text": "x\\udc80y", "id": "k\\ud800", "url": "https://e.example/\\ud800"}'
    (tmp_path / "s.jsonl").write_bytes(line + b"\n" + b'{"text": "ok", "id": "2"}\n')
    rows, bad = read(tmp_path, path="s.jsonl", format="jsonl", id_field="id", url_field="url")
    assert not bad and len(rows) == 2
    row = rows[0]
    assert row["text"] == "x\ufffdy" and row["id"] == "src:k\ufffd"
    assert row["source_uri"] == "https://e.example/\ufffd"
    assert row["content_sha256"] == hashlib.sha256("x\ufffdy".encode()).hexdigest()


def test_a_lone_surrogate_in_a_json_array(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(
        b'[{"text": "one", "id": "1"},\n {"text": "t\\ud800", "id": "2\\udfff", "x": "\\ud800"}]')
    rows, bad = read(tmp_path, path="a.json", format="json", id_field="id")
    assert not bad
    assert [(r["id"], r["text"]) for r in rows] == [("src:1", "one"), ("src:2\ufffd", "t\ufffd")]
    assert json.loads(rows[1]["metadata"]) == {"x": "\ud800"}
