"""Progress on one large input file: records and bytes read against the total, as the run goes
(issue #13, item 9). What the progress callback receives is tested, not its rendering."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cli_kit import make_project, write_jsonl

from datasteward.executors.local import Progress
from datasteward.project import Project


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_reports_bytes_and_records_of_a_single_large_file(
    tmp_path: Path, workers: int
) -> None:
    project = make_project(tmp_path / "p", n=0)
    big = write_jsonl(project / "data" / "docs.jsonl", 12_000, words=70)
    size = big.stat().st_size
    assert size > 4_000_000  # a multi-MB single file, kept whole: one shard
    seen: list[Progress] = []

    def record(p: Progress) -> None:
        seen.append(replace(p))

    # split_mb=0 keeps the file whole (by default a 4 MB file is cut in two): this test is about
    # progress inside one task; the split rule has its own tests in tests/executors
    Project.open(project).run(workers=workers, batch_size=500, progress=record, split_mb=0)
    reading = [p for p in seen if p.segment == 0]
    assert reading and all(p.shards_total == 1 and p.bytes_total == size for p in reading)
    # before the only shard is done, the bytes and records read grow
    mid = [p for p in reading if p.shards_done == 0 and 0 < p.bytes_done < size]
    assert len(mid) >= 3, [(p.bytes_done, p.records) for p in reading]
    assert len({p.bytes_done for p in mid}) >= 3
    assert all(p.records > 0 for p in mid)
    done = [p.bytes_done for p in reading]
    assert done == sorted(done)  # never goes back
    assert reading[-1].bytes_done == size and reading[-1].records == 12_000
    assert 0 < mid[0].fraction < 1 and reading[-1].fraction == 1.0
