"""What an audit measures and how it flags: the recipe's ``[audit]`` table, or CLI options.

```toml
[audit]
min_ratio = 1.5          # flag a slice removed at least this many times as often as overall
confidence = 0.95        # of the Wilson intervals; flag only if the interval's low end > overall
min_records = 30         # slices with fewer records (reaching the step) are never flagged
min_removed = 5          # ...nor slices of which fewer were removed
top_values = 25          # per categorical slice (source, domain, language...), the largest N
samples = 5              # random records shown per removal reason, and of the kept records
seed = 0
lexicons = ["identity-en", "my-terms.toml"]   # "identity-en" is the built-in one

[[audit.slices]]
name = "short"
sql = "length_words < 100"                   # one DuckDB expression over columns and signals
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from datasteward.audit.slice_sql import check_slice_sql
from datasteward.errors import RecipeError
from datasteward.recipe.model import RECIPE_FILE, load_recipe
from datasteward.recipe.tables import AuditConfig, SqlSlice, audit_table


def checked(cfg: AuditConfig) -> AuditConfig:
    """``cfg`` with every slice's SQL checked to be one expression (the recipe checks keys and
    types; what SQL may run is the audit's to say)."""
    return replace(
        cfg,
        slices=tuple(SqlSlice(name=s.name, sql=check_slice_sql(s.name, s.sql)) for s in cfg.slices),
    )


def config_from_table(table: Mapping[str, Any] | None, *, base_dir: Path) -> AuditConfig:
    """Build the config from an ``[audit]`` table given as a mapping (paths relative to
    ``base_dir``). A recipe's own table is read with the recipe: ``recipe.audit``."""
    return checked(audit_table(table, base_dir=base_dir))


def config_from_recipe_file(path: Path) -> AuditConfig:
    """The ``[audit]`` table of a recipe file (read and checked with the whole recipe, so its
    errors name the line), or the defaults when there is no such file."""
    if path.is_dir():
        path = path / RECIPE_FILE
    if not path.is_file():
        return AuditConfig()
    return checked(load_recipe(path).audit)


def parse_slice_option(text: str) -> SqlSlice:
    """``NAME=SQL`` from the command line."""
    name, sep, sql = text.partition("=")
    if not sep or not name.strip() or not sql.strip():
        raise RecipeError(
            f"--slice {text!r} must be NAME=SQL", hint="e.g. --slice 'short=length_words < 100'"
        )
    return SqlSlice(name=name.strip(), sql=check_slice_sql(name.strip(), sql))


__all__ = ["AuditConfig", "SqlSlice", "config_from_recipe_file", "config_from_table"]
