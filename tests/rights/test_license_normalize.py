"""rights.license_normalize: raw licence strings to SPDX, with lineage folded in."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from rights_helpers import batch

from datasteward.errors import StepError
from datasteward.recipe import load_recipe
from datasteward.steps.base import Annotator, Filter, StepContext
from datasteward.steps.registry import BUILTIN_STEPS, build_step

RECIPE = """
[dataset]
name = "d"

[[sources]]
name = "flickr"
format = "csv"
path = "f.csv"
license_field = "license"

[[sources]]
name = "derived"
format = "jsonl"
path = "d.jsonl"
license = "CC-BY-4.0"
derived_from = ["wiki"]

[[sources]]
name = "crawl"
format = "jsonl"
path = "c.jsonl"
derived_from = ["common-crawl"]

[policy.upstream.wiki]
license = "CC BY-SA 4.0"

[policy.upstream.common-crawl]
license = "unknown"
"""


def test_all_rights_steps_are_registered() -> None:
    kinds = {
        "rights.license_normalize": Annotator,
        "rights.license_detect": Annotator,
        "rights.optout": Filter,
        "rights.policy": Filter,
    }
    for name, kind in kinds.items():
        assert name in BUILTIN_STEPS
        assert isinstance(build_step(name, {}), kind)
    with pytest.raises(StepError, match="has no option `fetchh`"):
        build_step("rights.optout", {"fetchh": True})


def test_normalise_and_lineage(tmp_path: Path) -> None:
    (tmp_path / "datasteward.toml").write_text(RECIPE)
    step = build_step("rights.license_normalize", {"version_column": "license_version"})
    ctx = StepContext.for_recipe(load_recipe(tmp_path), run_dir=tmp_path / "run", step_id="s01")
    step.setup(ctx)
    rows = [
        {
            "source": "flickr",
            "license": "by-nc",
            "license_version": "2",
            "license_evidence": "record field `license`='by-nc'",
        },
        {"source": "flickr", "license": "http://creativecommons.org/licenses/by/2.0/"},
        {"source": "flickr", "license": "CC0-1.0"},
        {"source": "flickr", "license": "see the website"},
        {"source": "derived", "license": "CC-BY-4.0"},
        {"source": "crawl", "license": "unknown"},
    ]
    out = step.process(batch(rows, extra={"license_version": pa.string()}), ctx).kept
    assert out.column("license").to_pylist() == [
        "CC-BY-NC-2.0",
        "CC-BY-2.0",
        "CC0-1.0",
        "unknown",
        "CC-BY-4.0 AND CC-BY-SA-4.0",
        "unknown",
    ]
    ev = out.column("license_evidence").to_pylist()
    assert ev[0].startswith("record field `license`='by-nc'; normalised: 'by-nc' -> CC-BY-NC-2.0")
    assert ev[2] is None  # already SPDX: nothing to say
    assert "'see the website' -> unknown (unresolved)" in ev[3]
    assert "lineage: upstream CC-BY-SA-4.0" in ev[4]
    assert out.column("license_use").to_pylist() == [
        "non-commercial",
        "commercial",
        "commercial",
        "unspecified",
        "commercial",
        "unspecified",
    ]
    assert out.column("license_share_alike").to_pylist()[4] is True
    assert out.column("license_attribution").to_pylist()[2] is False


def test_missing_recipe_or_column_is_a_clear_error(tmp_path: Path) -> None:
    step = build_step("rights.license_normalize", {})
    with pytest.raises(StepError, match="needs the recipe"):
        step.setup(StepContext(run_dir=tmp_path, step_id="s01", recipe_dir=tmp_path))
    step = build_step("rights.license_normalize", {"lineage": False, "version_column": "v"})
    with pytest.raises(StepError, match="no column `v`"):
        step.process(batch([{}]), StepContext(run_dir=tmp_path, step_id="s01"))
