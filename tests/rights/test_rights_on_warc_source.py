"""The rights steps on records the real WARC reader produces (datasteward.sources.warc).

The reader keeps the HTTP headers in ``metadata["http_headers"]``; with ``extract = "none"``
the ``text`` column holds the decoded HTML, which the steps read with ``html_column = "text"``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
from rights_helpers import shared

from datasteward.recipe.model import load_recipe
from datasteward.steps.base import StepContext
from datasteward.steps.registry import build_step


def _read(tmp_path: Path, path: Path) -> list[pa.RecordBatch]:
    from datasteward.sources import expand_shards, reader_for

    (tmp_path / "datasteward.toml").write_text(
        f'[dataset]\nname = "w"\n\n[[sources]]\nname = "crawl"\nformat = "warc"\n'
        f'path = "{path}"\noptions = {{ extract = "none" }}\n'
    )
    recipe = load_recipe(tmp_path)
    batches: list[pa.RecordBatch] = []
    for shard in expand_shards(recipe):
        reader = reader_for(recipe.source(shard.source), recipe.dir)
        batches.extend(reader.read(shard, batch_size=1000, on_bad=lambda b: None))
    return batches


def test_license_detect_and_optout_on_real_warc_records(tmp_path: Path) -> None:
    warc = shared("webtext", "dolma-test-data", "warc", "sample-0000.warc.gz")
    batches = _read(tmp_path, warc)
    assert sum(b.num_rows for b in batches) == 22
    detect = build_step("rights.license_detect", {"html_column": "text"})
    optout = build_step("rights.optout", {"html_column": "text"})
    ctx = StepContext(run_dir=tmp_path / "run", step_id="s01", recipe_dir=tmp_path)
    optout.setup(ctx)
    found = {}
    removed = 0
    for b in batches:
        out = detect.process(b, ctx).kept
        for uri, lic in zip(
            out.column("source_uri").to_pylist(), out.column("license").to_pylist(), strict=True
        ):
            if lic != "unknown":
                found[uri] = lic
        res = optout.process(out, ctx)
        removed += 0 if res.trace is None else res.trace.num_rows
        assert "optout_signals" in res.kept.schema.names
    sys.stdout.write(f"licensed pages: {found}; opted out: {removed}\n")
    assert found == {"https://soldaini.net/": "CC-BY-4.0"}
    assert removed == 0  # none of these 2024 researcher pages sends an AI opt-out
