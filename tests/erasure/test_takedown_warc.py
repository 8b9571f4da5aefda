"""Issue 19 on a WARC-sourced project (Common Crawl pages from Dolma's test data): a privacy
takedown by URL erases the page from the release, the run and the audit, provably."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from erasure_kit import ds, make_warc_project, record, scan

pytestmark = pytest.mark.slow


def test_privacy_takedown_by_url_on_a_warc_project(tmp_path: Path) -> None:
    project = make_warc_project(tmp_path)
    rel = project / "releases" / "1.0.0"
    released = pq.read_table(rel / "data").to_pylist()
    # the longest page: the one with the most text to leave behind
    rec = record(rel, max(released, key=lambda r: len(r["text"]))["id"])
    before = scan(project, rec)
    assert any(p.startswith("runs/") for p in before) and any("releases/1.0.0" in p for p in before)

    p = str(project)
    ds(
        "takedown",
        "add",
        "--kind",
        "privacy",
        "--url",
        rec["source_uri"],
        "--requester",
        "Site owner <owner@example.org>",
        "--reason",
        "personal page",
        "--project",
        p,
    )
    ds("takedown", "apply", "--project", p)

    assert json.loads(ds("takedown", "verify", "1", "--project", p, "--json").stdout)["ok"]
    assert scan(project, rec) == {}
    verify = ds("verify", str(rel))
    assert verify.returncode == 0 and "withdrawn" in verify.stdout
    assert not list(rel.rglob("*.parquet"))
    hf = pytest.importorskip("datasets", reason="Hugging Face datasets reads it as a hub would")
    with pytest.raises(Exception, match="(?i)data ?files|unable to find|doesn't contain"):
        hf.load_dataset(str(rel))
    patch = pq.read_table(project / "releases" / "1.0.1" / "data").to_pylist()
    assert patch == [r for r in released if r["id"] != rec["id"]]
