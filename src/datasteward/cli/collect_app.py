"""The ``collect`` command group and the one lookup of its ``[[collect]]`` tables.

``collect pages`` (:mod:`datasteward.cli.collect_cmds`) and ``collect images``
(:mod:`datasteward.cli.collect_images_cmd`) both join :data:`collect_app`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from datasteward.cli._common import load_project_recipe
from datasteward.errors import RecipeError
from datasteward.recipe.collect import CollectConfig, collect_table

collect_app = typer.Typer(
    help="Collect data with consent: crawl pages (and download images) politely, recording "
    "every opt-out signal at fetch time.\n\n"
    "Example: [bold]datasteward collect pages --project my-dataset[/]",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def collect_config(project: Path, name: str | None, kind: str) -> CollectConfig:
    """The project's ``[[collect]]`` table of ``kind`` called ``name`` (or the only one)."""
    recipe = load_project_recipe(project)
    cfg = collect_table(recipe.collect, name, kind)
    if cfg is None:
        names = [t.name for t in recipe.collect if t.kind == kind]
        raise RecipeError(
            f"{recipe.path}: no [[collect]] table of kind {kind!r}"
            + (f" named {name!r}" if name else "")
            + (f" (there are: {', '.join(names)})" if names else ""),
            hint="pass --name NAME"
            if len(names) > 1
            else f'add a [[collect]] table with kind = "{kind}" (see docs/collect.md)',
        )
    return cfg
