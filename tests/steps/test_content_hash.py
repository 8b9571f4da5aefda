"""Bug 1 of issue 12: a step that edits text keeps ``content_sha256`` true.

``content_sha256`` is always the sha256 of the stored text (UTF-8); ``source_content_sha256``
keeps the hash at ingest. Checked for PII redaction, ``c4`` line removal (which also
filters), a user's own ``Editor``, and a whole run from a JSONL source.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datafiles import shared

from datasteward.errors import StepError
from datasteward.records import records_from_texts
from datasteward.steps.base import Annotator, EditDecision, Editor, StepContext, StepResult
from datasteward.steps.registry import build_step


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ctx(tmp_path: Path, step_id: str) -> StepContext:
    return StepContext(run_dir=tmp_path, step_id=step_id)


def assert_hashes_true(res: StepResult, ingest: dict[str, str]) -> int:
    """Every kept record: content_sha256 == sha256(text), source_content_sha256 == ingest
    hash. Returns how many kept records were edited (their hash changed)."""
    rows = res.kept.to_pylist()
    assert rows, "no record kept"
    changed = 0
    for r in rows:
        assert r["content_sha256"] == sha(r["text"] or ""), r["id"]
        assert r["source_content_sha256"] == ingest[r["id"]], r["id"]
        changed += r["content_sha256"] != ingest[r["id"]]
    if res.removed is not None:  # removed records keep the text (and hash) they had
        for r in res.removed.to_pylist():
            assert r["content_sha256"] == sha(r["text"] or "")
    return changed


def test_pii_redaction_rehashes_edited_records(tmp_path: Path) -> None:
    docs = ["Mail jane@example.org now.", "Nothing personal.", "Call (406) 721-8899 please."]
    batch = records_from_texts(docs, source="p")
    ingest = dict(zip(batch.column("id").to_pylist(), map(sha, docs), strict=True))
    res = build_step("pii", {"mode": "redact"}).process(batch, ctx(tmp_path, "s01-pii"))
    assert res.kept.column("text").to_pylist()[0] == "Mail <EMAIL> now."
    assert assert_hashes_true(res, ingest) == 2


def raw_pages(n: int) -> list[str]:
    """Raw Common Crawl pages (DCLM's annotated sample): C4's rules edit many of them."""
    path = shared("webtext", "dclm-quality-annotations", "majority_data.jsonl")
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()[:n]]


def test_c4_edits_rehash_kept_records(tmp_path: Path) -> None:
    docs = raw_pages(300)
    batch = records_from_texts(docs, source="c4")
    ingest = dict(zip(batch.column("id").to_pylist(), map(sha, docs), strict=True))
    res = build_step("c4", {}).process(batch, ctx(tmp_path, "s01-c4"))
    assert res.removed is not None and res.removed.num_rows > 0
    changed = assert_hashes_true(res, ingest)
    assert changed > 0  # c4 edits many real pages
    assert res.trace is not None
    edits = {r["id"] for r in res.trace.to_pylist() if r["action"] == "edit"}
    assert edits == {
        r["id"] for r in res.kept.to_pylist() if r["content_sha256"] != ingest[r["id"]]
    }


class Shout(Editor):
    """A user's editor: upper-cases records that mention "loud"."""

    name = "test.shout"

    def edit(self, batch: pa.RecordBatch) -> EditDecision:
        docs = [t or "" for t in batch.column("text").to_pylist()]
        hit = np.array(["loud" in t for t in docs], dtype=bool)
        return EditDecision(
            text=[t.upper() if h else t for t, h in zip(docs, hit, strict=True)],
            edited=hit,
            reason=["shouted" if h else None for h in hit],
        )


def test_a_users_editor_gets_the_rehash_for_free(tmp_path: Path) -> None:
    docs = ["a loud one", "a quiet one", "loud again"]
    batch = records_from_texts(docs, source="u")
    ingest = dict(zip(batch.column("id").to_pylist(), map(sha, docs), strict=True))
    res = Shout().process(batch, ctx(tmp_path, "s01-test.shout"))
    assert res.kept.column("text").to_pylist() == ["A LOUD ONE", "a quiet one", "LOUD AGAIN"]
    assert assert_hashes_true(res, ingest) == 2


def test_a_run_keeps_both_hashes_true(tmp_path: Path) -> None:
    """From ingest to the run's output: PII redaction then c4 on real pages."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    pages = raw_pages(200)
    pages[0] += "\nWrite to jane.doe@example.org for the full report, please."
    docs = [{"id": f"p{i}", "text": t} for i, t in enumerate(pages)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), "utf-8")
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "h"\n[[sources]]\nname = "web"\nformat = "jsonl"\npath = "in.jsonl"\n'
        'id_field = "id"\n[[steps]]\nuse = "pii"\nmode = "redact"\n[[steps]]\nuse = "c4"\n'
    )
    run = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    ingest = {f"web:{d['id']}": sha(d["text"]) for d in docs}
    rows = pq.read_table(run.run_dir / "data").to_pylist()
    assert rows
    edited = 0
    for r in rows:
        assert r["content_sha256"] == sha(r["text"]), r["id"]
        assert r["source_content_sha256"] == ingest[r["id"]], r["id"]
        edited += r["content_sha256"] != r["source_content_sha256"]
    assert edited > 0
    redacted = next(r for r in rows if r["id"] == "web:p0")
    assert "<EMAIL>" in redacted["text"]


@pytest.mark.parametrize("mode", ["annotate", "remove"])
def test_steps_that_do_not_edit_leave_hashes_alone(tmp_path: Path, mode: str) -> None:
    docs = ["Mail jane@example.org now.", "Nothing personal."]
    batch = records_from_texts(docs, source="p")
    res = build_step("pii", {"mode": mode}).process(batch, ctx(tmp_path, "s01-pii"))
    for r in res.kept.to_pylist():
        assert r["content_sha256"] == r["source_content_sha256"] == sha(r["text"])


def test_takedown_by_the_ingest_hash_still_finds_a_redacted_record(tmp_path: Path) -> None:
    """A requester knows the hash of their page as it was, not as redacted: a takedown by
    either hash matches the record in the run (suppression list) and in a release (its index
    carries source_content_sha256)."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release
    from datasteward.release.build.match import Request, match_releases, match_run

    docs = [
        {"id": "a", "text": "Write to jane.doe@example.org about the garden."},
        {"id": "b", "text": "Nothing personal in this one at all."},
    ]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), "utf-8")
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "t"\n[[sources]]\nname = "web"\nformat = "jsonl"\npath = "in.jsonl"\n'
        'id_field = "id"\n[[steps]]\nuse = "pii"\nmode = "redact"\n'
    )
    run = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    release = make_release(tmp_path, "1.0.0", draft=True).path
    stored = {r["id"]: r for r in pq.read_table(run.run_dir / "data").to_pylist()}
    assert stored["web:a"]["text"] == "Write to <EMAIL> about the garden."
    for n, digest in enumerate((sha(docs[0]["text"]), stored["web:a"]["content_sha256"]), 1):
        request = Request(n, "sha256", digest.upper())
        assert match_run(run.run_dir, [request]).ids(f"run:{run.run_dir.name}") == {"web:a"}
        assert match_releases({"1.0.0": release}, [request]).ids("1.0.0") == {"web:a"}


class Sneaky(Annotator):
    """Tries to change the text as a "signal", bypassing the rehash."""

    name = "test.sneaky"

    def annotate(self, batch: pa.RecordBatch) -> dict[str, pa.Array]:
        return {"text": pa.array(["changed"] * batch.num_rows, pa.large_string())}


def test_the_text_cannot_change_as_a_signal(tmp_path: Path) -> None:
    batch = records_from_texts(["one", "two"], source="s")
    with pytest.raises(StepError, match=r"returned the column\(s\) text as signals"):
        Sneaky().process(batch, ctx(tmp_path, "s01-test.sneaky"))
