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

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from datasteward.audit.slice_sql import check_slice_sql
from datasteward.errors import RecipeError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SqlSlice:
    """A user slice: the value of a DuckDB SQL expression over a record's columns."""

    name: str
    sql: str


@dataclass(frozen=True, kw_only=True)
class AuditConfig:
    """Options of ``datasteward audit``."""

    #: Flag a slice whose removal rate is at least this multiple of the overall rate...
    min_ratio: float = 1.5
    #: ...and whose Wilson interval at this confidence lies wholly above the overall rate.
    confidence: float = 0.95
    #: Slices with fewer records reaching a step are reported but never flagged.
    min_records: int = 30
    #: ...and of which at least this many were removed (no flag rests on a handful of records).
    min_removed: int = 5
    #: Largest values shown per categorical slice and per composition table.
    top_values: int = 25
    #: Random records shown in the report per removal reason, and of the kept records.
    samples: int = 5
    #: Seed of every random choice (samples are reproducible).
    seed: int = 0
    #: Lexicons of term groups; ``identity-en`` is the built-in identity lexicon.
    lexicons: tuple[str, ...] = ("identity-en",)
    #: User slices (SQL expressions).
    slices: tuple[SqlSlice, ...] = ()
    #: Characters of text shown per sampled record.
    sample_chars: int = 1200
    #: DuckDB memory limit (it spills to disk beyond it).
    memory_limit: str = "2GB"

    def validate(self) -> None:
        if self.min_ratio < 1.0:
            raise RecipeError(f"[audit] min_ratio must be >= 1, got {self.min_ratio}")
        if not 0.5 <= self.confidence < 1.0:
            raise RecipeError(f"[audit] confidence must be in [0.5, 1), got {self.confidence}")
        for name in ("min_records", "min_removed", "top_values", "samples", "sample_chars"):
            if getattr(self, name) < 0:
                raise RecipeError(f"[audit] {name} must be >= 0")
        seen: set[str] = set()
        for s in self.slices:
            if not _NAME.fullmatch(s.name):
                raise RecipeError(
                    f"[audit] slice name {s.name!r} must start with a letter and hold only "
                    "letters, digits and _"
                )
            if s.name in seen:
                raise RecipeError(f"[audit] slice name {s.name!r} is used twice")
            seen.add(s.name)
            check_slice_sql(s.name, s.sql)  # one expression, never a statement

    def with_overrides(self, **changes: Any) -> AuditConfig:
        clean = {k: v for k, v in changes.items() if v is not None}
        out = replace(self, **clean)
        out.validate()
        return out


_KEYS = {f for f in AuditConfig.__dataclass_fields__}


def config_from_table(table: Mapping[str, Any] | None, *, base_dir: Path) -> AuditConfig:
    """Build the config from a recipe's ``[audit]`` table (paths relative to ``base_dir``)."""
    if not table:
        cfg = AuditConfig()
        cfg.validate()
        return cfg
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise RecipeError(
                f"unknown key `{key}` in [audit]", hint="keys are: " + ", ".join(sorted(_KEYS))
            )
        if key == "slices":
            if not isinstance(value, list):
                raise RecipeError("[audit] slices must be an array of tables ([[audit.slices]])")
            slices = []
            for i, s in enumerate(value):
                if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not (
                    isinstance(s.get("sql"), str)
                ):
                    raise RecipeError(
                        f"[[audit.slices]] #{i + 1} needs `name` and `sql` strings",
                        hint='e.g. name = "short", sql = "length_words < 100"',
                    )
                slices.append(SqlSlice(name=s["name"], sql=s["sql"]))
            kwargs["slices"] = tuple(slices)
        elif key == "lexicons":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RecipeError("[audit] lexicons must be a list of file paths")
            kwargs["lexicons"] = tuple(
                v if v == "identity-en" or Path(v).is_absolute() else str(base_dir / v)
                for v in value
            )
        else:
            expected = type(getattr(AuditConfig(), key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or isinstance(value, bool):
                raise RecipeError(
                    f"[audit] {key} must be a {expected.__name__}, got {value!r}"
                )
            kwargs[key] = value
    cfg = AuditConfig(**kwargs)
    cfg.validate()
    return cfg


def config_from_recipe_file(path: Path) -> AuditConfig:
    """The ``[audit]`` table of a recipe file (only that table is read), or the defaults."""
    if not path.is_file():
        return config_from_table(None, base_dir=path.parent)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"cannot read the [audit] table of {path}: {exc}") from None
    table = data.get("audit")
    if table is not None and not isinstance(table, dict):
        raise RecipeError(f"{path}: `audit` must be a table ([audit])")
    return config_from_table(table, base_dir=path.parent)


def parse_slice_option(text: str) -> SqlSlice:
    """``NAME=SQL`` from the command line."""
    name, sep, sql = text.partition("=")
    if not sep or not name.strip() or not sql.strip():
        raise RecipeError(
            f"--slice {text!r} must be NAME=SQL", hint="e.g. --slice 'short=length_words < 100'"
        )
    return SqlSlice(name=name.strip(), sql=check_slice_sql(name.strip(), sql))


__all__ = ["AuditConfig", "SqlSlice", "config_from_recipe_file", "config_from_table"]
