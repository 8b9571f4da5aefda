"""A crawl through the whole pipeline: real WARCs read with their HTML kept, licence evidence
found in the markup by ``rights.license_detect``, and the extracted text what is released."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datafiles import shared

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe


def test_warc_with_html_kept_feeds_licence_detection(tmp_path: Path) -> None:
    warcs = shared("webtext", "dolma-test-data", "warc")
    whirlwind = shared("webtext", "commoncrawl-whirlwind", "whirlwind.warc.gz")
    (tmp_path / "datasteward.toml").write_text(
        f"""
[dataset]
name = "crawl"

[[sources]]
name = "cc"
format = "warc"
path = "{warcs}/*.warc.gz"
options = {{ keep_html = true }}

[[sources]]
name = "wiki"
format = "warc"
path = "{whirlwind}"
options = {{ keep_html = true }}

[[steps]]
use = "rights.license_detect"
"""
    )
    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    kept = pa.concat_tables(
        [pq.read_table(f) for f in sorted((result.run_dir / "data").glob("*.parquet"))]
    )
    licences = dict(
        zip(kept.column("source_uri").to_pylist(), kept.column("license").to_pylist(), strict=True)
    )
    # soldaini.net links CC BY 4.0 with rel="license" in its markup, which the extracted
    # text no longer has: only the kept HTML lets the step find it
    assert licences["https://soldaini.net/"] == "CC-BY-4.0"
    assert licences["https://an.wikipedia.org/wiki/Escopete"] == "CC-BY-SA-4.0"
    assert result.stats["records_in"] == 22 + 15 + 1
    texts = kept.column("text").to_pylist()
    assert not any("<html" in t.lower() for t in texts)
