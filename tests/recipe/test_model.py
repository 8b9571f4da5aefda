from __future__ import annotations

from pathlib import Path

import pytest

from datasteward.errors import RecipeError
from datasteward.recipe import load_recipe, parse_recipe

GOOD = """\
[dataset]
name = "news-en"
description = "News"

[[stewards]]
name = "Ada"
email = "ada@example.org"
role = "maintainer"

[[sources]]
name = "news"
format = "csv"
path = "data/*.csv"
text_field = "text"
url_field = "url"

[[steps]]
use = "filter.length"
min_words = 5

[[steps]]
use = "dedup.exact"
"""


def test_good_recipe_parses(tmp_path: Path) -> None:
    (tmp_path / "datasteward.toml").write_text(GOOD)
    r = load_recipe(tmp_path)
    assert r.dataset.name == "news-en"
    assert r.stewards[0].email == "ada@example.org"
    assert r.sources[0].url_field == "url"
    assert [s.use for s in r.steps] == ["filter.length", "dedup.exact"]
    assert r.steps[0].options == {"min_words": 5}
    assert [s.step_id for s in r.steps] == ["s01-filter.length", "s02-dedup.exact"]
    assert r.dir == tmp_path.resolve()


def test_hash_ignores_formatting_but_not_content(tmp_path: Path) -> None:
    a = parse_recipe(GOOD, tmp_path / "a.toml")
    b = parse_recipe(
        GOOD.replace('name = "news-en"', 'name   =   "news-en"   # same'), tmp_path / "b.toml"
    )
    c = parse_recipe(GOOD.replace("min_words = 5", "min_words = 6"), tmp_path / "c.toml")
    assert a.hash == b.hash
    assert a.hash != c.hash


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (('format = "csv"', 'format = "cvs"'), 12, ["unknown source format 'cvs'", "jsonl"]),
        (('url_field = "url"', 'url_feild = "url"'), 15, ["unknown key `url_feild`", "url_field"]),
        (('role = "maintainer"', 'role = "boss"'), 8, ["unknown steward role", "maintainer"]),
        (
            ('text_field = "text"', "text_field = 3"),
            14,
            ["`text_field` in [[sources]] `news` must be a string"],
        ),
        (('use = "dedup.exact"', 'used = "dedup.exact"'), 21, ["needs `use`"]),
    ],
)
def test_errors_name_the_key_and_line(
    tmp_path: Path, change: tuple[str, str], line: int, words: list[str]
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, tmp_path / "datasteward.toml")
    msg = str(info.value)
    assert f"datasteward.toml:{line}:" in msg
    for w in words:
        assert w in msg


def test_duplicate_source_names_rejected(tmp_path: Path) -> None:
    text = GOOD + '\n[[sources]]\nname = "news"\nformat = "jsonl"\npath = "x"\n'
    with pytest.raises(RecipeError, match="used twice"):
        parse_recipe(text, tmp_path / "r.toml")


def test_missing_pieces(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"missing table \[dataset\]"):
        parse_recipe('[[sources]]\nname="a"\nformat="jsonl"\npath="x"\n', tmp_path / "r.toml")
    with pytest.raises(RecipeError, match="declares no"):
        parse_recipe('[dataset]\nname="a"\n', tmp_path / "r.toml")
    with pytest.raises(RecipeError, match="not valid TOML"):
        parse_recipe('[dataset\nname="a"\n', tmp_path / "r.toml")
    with pytest.raises(RecipeError, match="no recipe at"):
        load_recipe(tmp_path / "nowhere")
