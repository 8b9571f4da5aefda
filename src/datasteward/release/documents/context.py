"""What the release documents are made from: one object, filled once per release."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from datasteward.recipe.model import Recipe
from datasteward.recipe.sections import Steward
from datasteward.release.format.manifest import FileEntry
from datasteward.runs.stats import RunStats


@dataclass
class ReleaseContext:
    project: Path
    root: Path  # the directory being written
    version: str
    dataset: str
    description: str
    homepage: str | None
    stewards: tuple[Steward, ...]
    created_at: str
    run_id: str | None
    recipe_hash: str | None
    parent: str | None
    records: int
    schema: pa.Schema
    data_files: list[FileEntry]
    stats: RunStats | None  # the released run's funnel and costs (stats.json)
    changelog_entry: str
    parent_changelog: str | None = None
    takedowns: list[dict[str, Any]] = field(default_factory=list)
    draft: bool = False
    #: The recipe the released run was made with (typed), if the run kept it.
    recipe: Recipe | None = None
    #: A links-only release: URLs, hashes and metadata, no content (``links`` describes it).
    links_only: bool = False
    links: dict[str, Any] | None = None
    #: The datasheet built while writing the documents (reused by the release gate).
    datasheet: Any = None

    @property
    def data_glob(self) -> str:
        return str(self.root / "data" / "*.parquet")
