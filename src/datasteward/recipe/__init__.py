"""The recipe: ``datasteward.toml``, one typed model validated on load."""

from datasteward.recipe._typed import fit_value
from datasteward.recipe.model import (
    DatasetInfo,
    Recipe,
    SourceConfig,
    StepConfig,
    Steward,
    load_recipe,
    parse_recipe,
)
from datasteward.recipe.tables import AuditConfig, PolicyAccept, PolicyTable, SqlSlice, Upstream

__all__ = [
    "AuditConfig",
    "DatasetInfo",
    "PolicyAccept",
    "PolicyTable",
    "Recipe",
    "SourceConfig",
    "SqlSlice",
    "StepConfig",
    "Steward",
    "Upstream",
    "fit_value",
    "load_recipe",
    "parse_recipe",
]
