"""Errors that name the recipe file and line of the key at fault (tomllib gives no positions)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datasteward.errors import RecipeError
from datasteward.recipe._locate import locate


@dataclass(frozen=True)
class Where:
    """The recipe text being parsed, to turn (table, index, key) into ``file:line``."""

    path: Path
    text: str

    def at(self, table: str | None, index: int | None = None, key: str | None = None) -> str:
        """``file:line`` of ``key`` in ``[table]`` (or the ``index``-th ``[[table]]``)."""
        line = locate(self.text, table, index, key) if self.text else None
        return f"{self.path}:{line}" if line else str(self.path)

    def err(
        self,
        msg: str,
        *,
        table: str | None = None,
        index: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> RecipeError:
        if not self.text and str(self.path) in msg:  # a table given as a mapping names itself
            return RecipeError(msg, hint=hint)
        return RecipeError(f"{self.at(table, index, key)}: {msg}", hint=hint)
