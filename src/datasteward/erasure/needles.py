"""Collecting what an erasure needs of each record, before anything is erased: its texts,
URLs and content hashes, from every release and run that holds it."""

from __future__ import annotations

from pathlib import Path

from datasteward.erasure.fingerprint import RecordNeedles
from datasteward.release.format.project import existing_versions, releases_dir


def _record_files(project: Path) -> dict[str, list[str]]:
    """Record-shaped Parquet files: releases' data and runs' data and removed."""
    groups: dict[str, list[str]] = {}
    for v in existing_versions(project):
        d = releases_dir(project) / str(v)
        files = sorted(str(p) for p in (d / "data").glob("*.parquet"))
        if files:
            groups[f"release {v}"] = files
    runs = Path(project) / "runs"
    if runs.is_dir():
        for run in sorted(p for p in runs.iterdir() if p.is_dir()):
            for sub in ("data", "removed"):
                files = sorted(str(p) for p in (run / sub).glob("*.parquet"))
                if files:
                    groups[f"run {run.name} {sub}"] = files
    return groups


def collect_needles(project: Path, ids: set[str], urls: set[str]) -> list[RecordNeedles]:
    """Each record's texts, URLs and content hashes, from every release and run that holds it.

    One DuckDB query per group of files; the ``id`` filter is pushed down to the Parquet
    row groups, whose statistics skip those that cannot hold the record."""
    import duckdb
    import pyarrow.parquet as pq

    found: dict[str, dict[str, set[str]]] = {
        i: {"texts": set(), "urls": set(), "sha": set()} for i in ids
    }
    if not ids:
        return []
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        for files in _record_files(project).values():
            names = set(pq.read_schema(files[0]).names)
            for f in files[1:]:
                names |= set(pq.read_schema(f).names)
            if "id" not in names:
                continue
            cols = [
                c
                for c in ("text", "source_uri", "content_sha256", "source_content_sha256")
                if c in names
            ]
            select = ", ".join(["id", *cols])
            rows = con.execute(
                f"SELECT {select} FROM read_parquet(?, union_by_name = true) "  # noqa: S608
                "WHERE id IN (SELECT unnest(?))",
                [files, sorted(ids)],
            ).fetchall()
            for row in rows:
                rec = dict(zip(["id", *cols], row, strict=True))
                slot = found[str(rec["id"])]
                if rec.get("text"):
                    slot["texts"].add(str(rec["text"]))
                if rec.get("source_uri"):
                    slot["urls"].add(str(rec["source_uri"]))
                for k in ("content_sha256", "source_content_sha256"):
                    if rec.get(k):
                        slot["sha"].add(str(rec[k]))
    finally:
        con.close()
    return [
        RecordNeedles(
            id=i,
            texts=tuple(sorted(v["texts"])),
            urls=tuple(sorted(v["urls"] | (urls if not v["urls"] else set()))),
            content_sha256=tuple(sorted(v["sha"])),
        )
        for i, v in sorted(found.items())
    ]
