"""docs/steps/writing-a-step.md's example step, end to end: loaded by dotted path from a
recipe, run, swept by ``whatif``, audited and released; each stage shows it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq

EXAMPLE = Path(__file__).with_name("writing_a_step_example.py")
DOC = Path(__file__).resolve().parents[2] / "docs" / "steps" / "writing-a-step.md"
USE = "writing_a_step_example:DigitRatioFilter"
STEP_ID = "s01-writing_a_step_example.DigitRatioFilter"


def test_the_page_shows_the_tested_module() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), flags=re.S)
    assert blocks, "the page has no python block"
    assert blocks[0] == EXAMPLE.read_text("utf-8")


def test_a_users_step_gets_whatif_audit_and_datasheet_for_free(
    tmp_path: Path, c4_jsonl: Path
) -> None:
    from datasteward.audit import AuditConfig, audit_run
    from datasteward.audit.whatif import whatif
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    # real web pages, and pages that are mostly numbers, as crawls hold (tables, price lists)
    lines = c4_jsonl.read_text("utf-8").splitlines()[:300]
    numbers = [
        json.dumps({"text": " ".join(f"{i * 37 % 1000:03d}-{i:04d}" for i in range(k, k + 40))})
        for k in range(0, 400, 40)
    ]
    (tmp_path / "pages.jsonl").write_text("\n".join(lines + numbers) + "\n", "utf-8")
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "own-step"\n[[sources]]\nname = "web"\nformat = "jsonl"\n'
        f'path = "pages.jsonl"\n[[steps]]\nuse = "{USE}"\nmax_digit_ratio = 0.05\n',
        "utf-8",
    )

    # run: the step is found by its dotted path, decides, stores its signal, traces
    run = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    (step,) = run.stats["steps"]
    assert step["step_id"] == STEP_ID
    removed = pq.read_table(run.run_dir / "removed").to_pylist()
    kept = pq.read_table(run.run_dir / "data").to_pylist()
    assert len(removed) == step["removed"] and 10 <= len(removed) < 310
    assert step["reasons"] == {"too_many_digits": len(removed)}
    assert all(r["digit_ratio"] > 0.05 for r in removed)
    assert all(r["digit_ratio"] <= 0.05 for r in kept)

    # whatif: the step's own predicate reproduces the run, and sweeps its option
    same = whatif(run.run_dir, STEP_ID, {})
    assert same["reproduced_share"] == 1.0
    assert same["overall"]["removed"] == len(removed)
    assert same["signals"] == ["digit_ratio"]
    looser = whatif(run.run_dir, STEP_ID, {"max_digit_ratio": 0.1})
    assert looser["overall"]["regained"] == sum(r["digit_ratio"] <= 0.1 for r in removed) > 0
    assert looser["overall"]["lost"] == 0
    stricter = whatif(run.run_dir, STEP_ID, {"max_digit_ratio": 0.02})
    assert stricter["overall"]["lost"] == sum(r["digit_ratio"] > 0.02 for r in kept) > 0

    # audit: the step is in the funnel with its removals found, and its slices measured
    audit = audit_run(run.run_dir, tmp_path / "audit", AuditConfig(samples=0))
    (funnel,) = audit["funnel"]
    assert funnel["step_id"] == STEP_ID and funnel["use"] == USE
    assert funnel["removed"] == funnel["removed_records_found"] == len(removed)
    assert [s["step_id"] for s in audit["slice_impact"]] == [STEP_ID]

    # release: the datasheet names the step with its own wording and counts
    release = make_release(tmp_path, "1.0.0", draft=True).path
    sheet = (release / "datasheet.md").read_text("utf-8")
    total = len(kept) + len(removed)
    assert (
        f"`{STEP_ID}` (removes records of which more than 5% of the characters are digits) "
        f"removed {len(removed)} of {total} ({len(removed) / total:.1%}): "
        f"too_many_digits {len(removed)}"
    ) in sheet
