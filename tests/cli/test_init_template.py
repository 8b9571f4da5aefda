"""The ``init`` templates (#13 item 19): the web-text recipe shows the main cleaning steps,
commented, and each one, uncommented, gives a recipe that parses and whose options validate."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from datasteward.recipe import load_recipe
from datasteward.steps.registry import build_step

TEMPLATE = resources.files("datasteward.templates").joinpath("web-text.toml").read_text("utf-8")


def commented_steps(template: str) -> list[tuple[str, str]]:
    """(name, uncommented text) of each commented ``[[steps]]`` block of a template: the
    ``# [[steps]]`` line and the ``# key = value`` lines right after it."""
    out = []
    lines = template.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "# [[steps]]":
            continue
        block = ["[[steps]]"]
        for nxt in lines[i + 1 :]:
            m = re.match(r"^# ([a-z_]+ = .*)$", nxt)
            if not m:
                break
            block.append(m.group(1))
        use = next(b for b in block if b.startswith("use = "))
        out.append((use.split('"')[1], "\n".join(block) + "\n"))
    return out


STEPS = commented_steps(TEMPLATE)


def test_the_template_shows_the_main_cleaning_steps() -> None:
    names = {name for name, _ in STEPS}
    assert {
        "langid",
        "c4",
        "c4.badwords",
        "gopher.quality",
        "gopher.repetition",
        "fineweb.quality",
        "pii",
        "dedup.minhash",
    } <= names
    # the choice C4's bad-words list implies is said, with where to read about it
    badwords = TEMPLATE[TEMPLATE.index("bad-words") : TEMPLATE.index('use = "c4.badwords"')]
    assert "LGBTQ" in badwords and "docs/audit.md" in badwords


def _project(tmp_path: Path, recipe: str) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "badwords-en.txt").write_text("badword\n", "utf-8")
    (tmp_path / "datasteward.toml").write_text(recipe, "utf-8")
    return tmp_path


@pytest.mark.parametrize(("name", "block"), STEPS, ids=[n for n, _ in STEPS])
def test_each_commented_step_uncommented_parses_and_validates(
    tmp_path: Path, name: str, block: str
) -> None:
    recipe_text = TEMPLATE.replace("{name}", "t") + "\n" + block
    recipe = load_recipe(_project(tmp_path, recipe_text))
    entry = recipe.steps[-1]
    assert entry.use == name
    options = dict(entry.options)
    assert options, f"{name}: the template shows no option"
    step = build_step(name, options, where="web-text template")  # unknown keys, types, ranges
    step.check(tmp_path)
    for key, value in options.items():
        got = getattr(step.options, key)
        assert got == (tuple(value) if isinstance(value, list) else value), key


def test_init_writes_the_template_with_its_name(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from datasteward.cli.main import _load, app

    _load()
    result = CliRunner().invoke(app, ["init", str(tmp_path / "p"), "--name", "mine"])
    assert result.exit_code == 0, result.output
    recipe = load_recipe(tmp_path / "p")
    assert recipe.dataset.name == "mine"
