"""End to end: a recipe with [[annotations]] and [labour] -> run -> release whose Croissant
carries the measured agreement, the aggregation method and the labour figures (mlcroissant
validates it)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from crowd import LABELLED_RECIPE, c4_project
from datafiles import shared

from datasteward.errors import RecipeError

RECIPE = (
    LABELLED_RECIPE
    + """
[labour]
platform = "Amazon Mechanical Turk"
pay_scheme = "per item"
minimum_hourly_wage = 7.25
instructions = "labels/instructions.md"
"""
)


@pytest.mark.slow
def test_release_croissant_carries_measured_annotation_fields(tmp_path: Path) -> None:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    dog = shared("annotations", "crowd-truth-inference", "dog", "answer.csv")
    root = c4_project(tmp_path / "proj", RECIPE)
    shutil.copy(dog, root / "labels" / "answer.csv")
    with (root / "labels" / "answer.csv").open("a") as fh:
        fh.write("1,1,7\n")  # a label outside the label space (and a duplicate): quarantined
    recipe = load_recipe(root)
    assert recipe.annotations[0].method == "ds" and recipe.labour.minimum_hourly_wage == 7.25
    LocalExecutor(recipe, RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True)
    doc = json.loads((root / "releases" / "1.0.0" / "croissant.json").read_text())
    assert doc["rai:dataAnnotationPlatform"] == "Amazon Mechanical Turk"
    protocol = doc["rai:dataAnnotationProtocol"]
    assert "8070 labels on 807 items by 109 annotators" in protocol
    assert "by ds" in protocol and "top decile" in protocol
    assert "Krippendorff's alpha (nominal) 0.519" in doc["rai:dataAnnotationAnalysis"]
    assert "1 label rows quarantined" in doc["rai:dataAnnotationAnalysis"]
    assert doc["rai:annotationsPerItem"] == "breed: mean 10.00 (min 10, max 10)"
    sheet = (root / "releases" / "1.0.0" / "datasheet.md").read_text()
    assert "8070 labels on 807 items by 109 annotators" in sheet
    assert "Krippendorff" in sheet
    mlc = pytest.importorskip("mlcroissant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's, inside mlcroissant
        ds = mlc.Dataset(jsonld=str(root / "releases" / "1.0.0" / "croissant.json"))
        assert not ds.metadata.ctx.issues.errors


def test_recipe_tables_are_checked(tmp_path: Path) -> None:
    from datasteward.recipe.model import parse_recipe

    base = RECIPE.split("[[annotations]]")[0]
    r = parse_recipe(
        base + "[representation.language]\nen = { share = 0.5, tolerance = 0.1 }\nde = 0.25\n",
        tmp_path / "datasteward.toml",
    )
    assert r.representation.targets == {"language": {"en": (0.5, 0.1), "de": (0.25, 0.05)}}
    with pytest.raises(RecipeError, match="must be a share"):
        parse_recipe(base + "[representation.language]\nen = 2\n", tmp_path / "datasteward.toml")
    with pytest.raises(RecipeError, match="has no `files`"):
        parse_recipe(base + '[[annotations]]\nname = "x"\n', tmp_path / "datasteward.toml")
    with pytest.raises(RecipeError, match="unknown key `bogus`"):
        parse_recipe(base + "[labour]\nbogus = 1\n", tmp_path / "datasteward.toml")
