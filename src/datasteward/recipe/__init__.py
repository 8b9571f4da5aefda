"""The recipe: ``datasteward.toml``, validated on load."""

from datasteward.recipe.model import (
    DatasetInfo,
    Recipe,
    SourceConfig,
    StepConfig,
    Steward,
    load_recipe,
    parse_recipe,
)

__all__ = [
    "DatasetInfo",
    "Recipe",
    "SourceConfig",
    "StepConfig",
    "Steward",
    "load_recipe",
    "parse_recipe",
]
