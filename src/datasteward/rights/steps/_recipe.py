"""Load the recipe a rights step runs under (its policy and lineage live there)."""

from __future__ import annotations

from pathlib import Path

from datasteward.errors import StepError
from datasteward.recipe.model import RECIPE_FILE, Recipe, load_recipe


def recipe_for(recipe_dir: Path, step: str) -> Recipe:
    path = recipe_dir / RECIPE_FILE
    if not path.exists():
        raise StepError(
            f"step `{step}` needs the recipe's [policy] and sources, but there is no {path}",
            hint="run the step from a project folder (one with datasteward.toml)",
        )
    return load_recipe(path)
