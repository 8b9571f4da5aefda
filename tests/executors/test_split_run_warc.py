"""A run over the Dolma .warc.gz files split at gzip members equals the run that reads them
whole (see test_split.py for what "equals" covers)."""

from __future__ import annotations

import shutil
from pathlib import Path

from datafiles import shared
from split_runs import assert_same, run_both, write_recipe


def test_dolma_warc_gz_split_by_members_equals_whole_run(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for name in ("sample-0000.warc.gz", "sample-0001.warc.gz"):
        shutil.copy(shared("webtext", "dolma-test-data", "warc", name), tmp_path / "data" / name)
    write_recipe(
        tmp_path,
        'format = "warc"\npath = "data/*.warc.gz"\n[sources.options]\nextract = "none"',
    )
    whole, split, units = run_both(tmp_path, split_mb=0.04)
    assert len(units) >= 6 and all(":members@" in u[0] for u in units)
    assert whole["data"] or whole["trace_rows"]
    assert whole["funnel"]["records_in"] > 30
    assert_same(whole, split)
