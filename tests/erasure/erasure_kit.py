"""Real projects for the erasure tests, and a scan of a project that shares no code with
datasteward's own (``takedown verify``): pyarrow over every Parquet file, a plain search of
every other file's bytes (gzip opened), and every table of every SQLite file."""

from __future__ import annotations

import gzip
import html
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datafiles import shared

DS = [sys.executable, "-m", "datasteward"]

C4_RECIPE = """\
[dataset]
name = "c4-sample"
description = "1,000 English web pages from C4 (allenai/c4), for the erasure tests."
homepage = "https://example.org/c4-sample"

[[stewards]]
name = "Ana Ruiz"
email = "ana@example.org"
role = "maintainer"

[[sources]]
name = "c4"
format = "jsonl"
path = "{path}"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"
attribution = "AllenAI C4"

[[steps]]
use = "filter.length"
min_words = 40

[[steps]]
use = "dedup.exact"
{extra}"""

WARC_RECIPE = """\
[dataset]
name = "dolma-warc"
description = "Pages from a Common Crawl WARC file (Dolma's test data)."
homepage = "https://example.org/dolma-warc"

[[stewards]]
name = "Ana Ruiz"
email = "ana@example.org"
role = "maintainer"

[[sources]]
name = "crawl"
format = "warc"
path = "{path}"
license = "unknown"

[[steps]]
use = "filter.length"
min_words = 20
"""

DATASHEET = """\
[motivation]
purpose = "Test takedowns on real web text."
creators = "The datasteward team, for its test suite."

[composition]
instances = "Web pages (their main text)."
confidential = "Not known to; the pages were public."
people = "Some pages name people."

[collection]
how = "Crawled by Common Crawl."

[uses]
intended = "Testing dataset tooling."
risks = "Web text carries the biases of the sites it comes from."
not_for = "Training production models."
"""


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def ds(*args: str, check: bool = True, process: bool = False) -> Ran:
    """Run the CLI in this process (the real entry point's app), or as a new process."""
    if process:
        proc = subprocess.run([*DS, *args], capture_output=True, text=True, timeout=600)
        out = Ran(proc.returncode, proc.stdout, proc.stderr)
    else:
        from typer.testing import CliRunner

        from datasteward.cli.main import _load, app

        _load()
        res = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
        out = Ran(res.exit_code, res.stdout, res.stderr)
    if check and out.returncode != 0:
        raise AssertionError(f"datasteward {' '.join(args)}: {out.returncode}\n{out.stderr}")
    return out


def make_c4_project(root: Path, *, extra: str = "") -> Path:
    """A project over the real C4 sample (the input lives outside the project folder), run,
    audited (audit/report.html), released (1.0.0) and sampled (samples/kept.{jsonl,html})."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    (root / "input").mkdir(parents=True)
    shutil.copy(shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl"), root / "input")
    proj = root / "proj"
    proj.mkdir()
    path = (root / "input" / "c4_sample.jsonl").as_posix()
    (proj / "datasteward.toml").write_text(C4_RECIPE.format(path=path, extra=extra), "utf-8")
    (proj / "datasheet.toml").write_text(DATASHEET, "utf-8")
    LocalExecutor(load_recipe(proj), RunOptions(workers=1)).run()
    ds("audit", "--project", str(proj), "--out", str(proj / "audit"))
    make_release(proj, "1.0.0", draft=True)
    (proj / "samples").mkdir()
    for name in ("kept.jsonl", "kept.html"):
        ds(
            "sample",
            "--project",
            str(proj),
            "--outcome",
            "kept",
            "-n",
            "5",
            "--out",
            str(proj / "samples" / name),
        )
    return proj


def make_warc_project(root: Path) -> Path:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    warc = shared("webtext", "dolma-test-data", "warc", "sample-0000.warc.gz")
    proj = root / "proj"
    proj.mkdir(parents=True)
    (proj / "datasteward.toml").write_text(WARC_RECIPE.format(path=warc.as_posix()), "utf-8")
    (proj / "datasheet.toml").write_text(DATASHEET, "utf-8")
    LocalExecutor(load_recipe(proj), RunOptions(workers=1)).run()
    ds("audit", "--project", str(proj), "--out", str(proj / "audit"))
    make_release(proj, "1.0.0", draft=True)
    return proj


def record(release: Path, record_id: str) -> dict[str, str]:
    table = pq.read_table(release / "data")
    row = table.filter(pc.equal(table["id"], record_id)).to_pylist()
    assert len(row) == 1, record_id
    return {k: row[0][k] for k in ("id", "text", "source_uri")}


# ---- the independent scan -------------------------------------------------------------------
ALLOWED_IDS = re.compile(
    r"^(\.datasteward/ledger[^/]*|\.datasteward/suppression\.jsonl|"
    r"\.datasteward/takedowns/[^/]+\.json|releases/[^/]+/status\.json)$"
)


def needles(rec: dict[str, str]) -> dict[str, list[str]]:
    """What must not be found: two distinctive substrings (as written and as HTML, JSON
    and CSV escape them), the URL (as written and without its scheme), the id."""
    text = rec["text"]
    subs = [text[20:80], text[len(text) // 2 : len(text) // 2 + 60]]
    variants = set()
    for s in subs:
        variants |= {
            s,
            html.escape(s),
            html.escape(s, quote=False),
            json.dumps(s)[1:-1],
            json.dumps(s, ensure_ascii=True)[1:-1],
            s.replace('"', '""'),
        }
    url = rec["source_uri"]
    bare = url.split("://", 1)[-1]
    return {"text": sorted(variants), "url": [url, bare.rstrip("/")], "id": [rec["id"]]}


def _id_in(data: str, rid: str) -> bool:
    return re.search(r"(?<![\w:])" + re.escape(rid) + r"(?!\w)", data) is not None


def scan(project: Path, rec: dict[str, str]) -> dict[str, set[str]]:
    """{place: {"text", "url", "id"}} for every place of ``project`` that holds the record."""
    n = needles(rec)
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        rel = path.relative_to(project).as_posix()
        raw = path.read_bytes()
        if path.suffix == ".parquet":
            t = pq.read_table(path)
            for name in t.column_names:
                col = t[name]
                if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
                    col = pc.cast(col, pa.large_string(), safe=False)
                if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                    continue
                for s in n["text"]:
                    if pc.any(pc.match_substring(col, s)).as_py():
                        found.setdefault(f"{rel}#{name}", set()).add("text")
                if pc.any(pc.is_in(col, pa.array(n["url"] + [n["url"][1] + "/"]))).as_py():
                    found.setdefault(f"{rel}#{name}", set()).add("url")
                if pc.any(pc.equal(col, rec["id"])).as_py():
                    found.setdefault(f"{rel}#{name}", set()).add("id")
            continue
        if raw.startswith(b"SQLite format 3"):
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    cell = " ".join(str(v) for v in row)
                    if any(s in cell for s in n["text"]):
                        found.setdefault(f"{rel}#{table}", set()).add("text")
                    if any(u in cell for u in n["url"]):
                        found.setdefault(f"{rel}#{table}", set()).add("url")
            con.close()
            continue
        if raw.startswith(b"\x1f\x8b"):
            raw = gzip.decompress(raw)
        data = raw.decode("utf-8", "replace")
        if any(s in data for s in n["text"]):
            found.setdefault(rel, set()).add("text")
        if any(u in data for u in n["url"]):
            found.setdefault(rel, set()).add("url")
        if not ALLOWED_IDS.match(rel) and _id_in(data, rec["id"]):
            found.setdefault(rel, set()).add("id")
    return found
