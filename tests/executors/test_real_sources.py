"""One recipe over every kind of real web input in tests/data: C4 and DCLM JSONL, Dolma
JSON.gz, Common Crawl WARC and WET. Provenance must survive to the output of every source."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datafiles import shared

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe

WEB = ("webtext",)


def test_mixed_real_sources(tmp_path: Path) -> None:
    c4, dclm = shared(*WEB, "c4-en-sample-1000"), shared(*WEB, "dclm-quality-annotations")
    dolma, whirl = shared(*WEB, "dolma-test-data"), shared(*WEB, "commoncrawl-whirlwind")
    recipe = f"""
[dataset]
name = "mixed-web"

[[sources]]
name = "c4"
format = "jsonl"
path = "{c4}/c4_sample.jsonl"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"

[[sources]]
name = "dclm"
format = "jsonl"
path = "{dclm}/*.jsonl"

[[sources]]
name = "dolma"
format = "jsonl"
path = "{dolma}/multiple_files/*.jsonl.gz"
id_field = "id"

[[sources]]
name = "ccwarc"
format = "warc"
path = "{dolma}/warc/*.warc.gz"

[[sources]]
name = "ccwet"
format = "warc"
path = "{whirl}/whirlwind.warc.wet.gz"

[[steps]]
use = "filter.length"
min_words = 20

[[steps]]
use = "dedup.exact"
"""
    (tmp_path / "datasteward.toml").write_text(recipe)
    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=2)).run()
    stats = result.stats
    assert stats["kept"] + stats["removed"] + stats["quarantined"] == stats["records_in"]
    kept = pa.concat_tables(
        [pq.read_table(f) for f in sorted((result.run_dir / "data").glob("*.parquet"))],
        promote_options="default",
    )
    by_source = {
        s: kept.filter(pa.compute.equal(kept.column("source"), s))
        for s in ("c4", "dclm", "dolma", "ccwarc", "ccwet")
    }
    for name, table in by_source.items():
        assert table.num_rows > 0, f"no record of {name} survived"
        ids = table.column("id").to_pylist()
        assert all(i.startswith(name + ":") for i in ids)
    # web archives carry the page URL and the crawl date
    for name in ("c4", "ccwarc", "ccwet"):
        t = by_source[name]
        assert all(u and u.startswith("http") for u in t.column("source_uri").to_pylist())
        assert t.column("retrieved_at").null_count == 0
    assert set(by_source["c4"].column("license").to_pylist()) == {"ODC-By-1.0"}
    assert set(by_source["dclm"].column("license").to_pylist()) == {"unknown"}
    # every input line of the JSONL sources is accounted for, kept or removed
    removed = pa.concat_tables(
        [
            pq.read_table(f, columns=["source"])
            for f in (result.run_dir / "removed").glob("*.parquet")
        ]
    )
    import gzip

    def lines(paths: list[Path], *, gz: bool = False) -> int:
        n = 0
        for p in paths:
            with gzip.open(p, "rt") if gz else p.open() as fh:
                n += sum(1 for ln in fh if ln.strip())
        return n

    expected = {
        "c4": lines([c4 / "c4_sample.jsonl"]),
        "dclm": lines(sorted(dclm.glob("*.jsonl"))),
        "dolma": lines(sorted((dolma / "multiple_files").glob("*.jsonl.gz")), gz=True),
    }
    for name, n in expected.items():
        got = by_source[name].num_rows + removed.column("source").to_pylist().count(name)
        assert got == n, name
