"""Helpers shared by the CLI modules: the project option, its recipe, and number formats.

Runs are found with :func:`datasteward.runs.find.find_run`, the rule every command shares.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from datasteward.recipe.model import RECIPE_FILE, Recipe, load_recipe

console = Console()
err_console = Console(stderr=True)

ProjectOption = typer.Option(
    Path("."),
    "--project",
    "-p",
    help="The project folder (holds datasteward.toml).",
    file_okay=False,
)


def load_project_recipe(project: Path, recipe: Path | None = None) -> Recipe:
    return load_recipe(recipe if recipe is not None else project / RECIPE_FILE)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"
