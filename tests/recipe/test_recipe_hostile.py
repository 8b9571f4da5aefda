"""Issue #20 item 13: what the recipe used to accept or refuse wrongly.

``consent = "maybe"`` and unknown keys in ``[dataset]`` were accepted (the consent value went
into every record as it was); a UTF-8 BOM at the start of the file gave ``Invalid statement (at
line 1, column 1)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from datasteward.errors import RecipeError
from datasteward.recipe import load_recipe, parse_recipe

RECIPE = """\
[dataset]
name = "hostile"
description = "d"

[[sources]]
name = "web"
format = "jsonl"
path = "data/*.jsonl"
consent = "explicit"
"""


def _error(text: str, path: Path) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, path)
    return str(info.value)


def test_unknown_consent_value_of_a_source_is_refused_with_its_line(tmp_path: Path) -> None:
    msg = _error(RECIPE.replace('"explicit"', '"maybe"'), tmp_path / "datasteward.toml")
    assert "datasteward.toml:9:" in msg
    assert "unknown consent value 'maybe'" in msg
    assert "licence-only" in msg  # says which values exist


def test_consent_spellings_are_normalised_to_the_vocabulary(tmp_path: Path) -> None:
    r = parse_recipe(RECIPE.replace('"explicit"', '"License-Only"'), tmp_path / "r.toml")
    assert r.sources[0].consent == "licence-only"


@pytest.mark.parametrize(
    ("line", "key"), [('consent = "maybe"', "consent"), ('licence = "CC0-1.0"', "licence")]
)
def test_unknown_keys_in_dataset_are_refused_with_their_line(
    tmp_path: Path, line: str, key: str
) -> None:
    text = RECIPE.replace('description = "d"\n', f'description = "d"\n{line}\n')
    msg = _error(text, tmp_path / "datasteward.toml")
    assert "datasteward.toml:4:" in msg
    assert f"unknown key `{key}` in [dataset]" in msg
    assert "homepage" in msg and "language" in msg  # lists the keys that exist


def test_wrong_type_in_dataset_is_refused_with_its_line(tmp_path: Path) -> None:
    msg = _error(RECIPE.replace('description = "d"', "description = 3"), tmp_path / "r.toml")
    assert "r.toml:3:" in msg and "`description` in [dataset] must be a string" in msg


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "datasteward.toml"
    path.write_bytes(b"\xef\xbb\xbf" + RECIPE.encode())
    recipe = load_recipe(tmp_path)
    assert recipe.dataset.name == "hostile"
    assert recipe.hash == parse_recipe(RECIPE, path).hash  # the BOM changes nothing
    # and line numbers in errors still count from the first line
    bad = "\ufeff" + RECIPE.replace('"explicit"', '"maybe"')
    assert "datasteward.toml:9:" in _error(bad, path)
