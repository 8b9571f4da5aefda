"""The recipe: one typed, frozen model of ``datasteward.toml``, parsed and validated once.

A recipe names the dataset, its stewards, its sources and its steps, and holds the settings of
the policy, the audit, the release and the run. Every table is read into a frozen dataclass
(:mod:`datasteward.recipe.sections`, :mod:`datasteward.recipe.tables`) and every error names
the file, the line, the key and what was expected. The recipe pickles, so executors hand it to
steps in their context (``StepContext.recipe``) in any process: the recipe a step reads is the
recipe hashed into the run record.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasteward.errors import RecipeError
from datasteward.recipe._where import Where
from datasteward.recipe.annotations import (
    AnnotationsConfig,
    LabourTable,
    RepresentationTable,
    parse_annotations,
    parse_labour,
    parse_representation,
)
from datasteward.recipe.collect import CollectConfig, parse_collect
from datasteward.recipe.sections import (
    SOURCE_FORMATS,
    DatasetInfo,
    SourceConfig,
    StepConfig,
    Steward,
    WebTable,
    parse_dataset,
    parse_sources,
    parse_steps,
    parse_stewards,
    parse_web,
)
from datasteward.recipe.tables import (
    AuditConfig,
    PolicyTable,
    ReleaseTable,
    RunTable,
    parse_audit,
    parse_empty,
    parse_policy,
    parse_run,
)
from datasteward.recipe.takedown import TakedownTable, parse_takedown

RECIPE_FILE = "datasteward.toml"
_TOP_LEVEL = (
    "dataset",
    "stewards",
    "sources",
    "steps",
    "policy",
    "run",
    "release",
    "audit",
    "takedown",
    "web",
    "collect",
    "annotations",
    "labour",
    "representation",
)
_BOM = "\ufeff"

__all__ = [
    "RECIPE_FILE",
    "SOURCE_FORMATS",
    "DatasetInfo",
    "Recipe",
    "SourceConfig",
    "StepConfig",
    "Steward",
    "load_recipe",
    "parse_recipe",
]


@dataclass(frozen=True)
class Recipe:
    path: Path
    dataset: DatasetInfo
    stewards: tuple[Steward, ...]
    sources: tuple[SourceConfig, ...]
    steps: tuple[StepConfig, ...]
    policy: PolicyTable = field(default_factory=PolicyTable)
    audit: AuditConfig = field(default_factory=AuditConfig)
    release: ReleaseTable = field(default_factory=ReleaseTable)
    run: RunTable = field(default_factory=RunTable)
    takedown: TakedownTable = field(default_factory=TakedownTable)
    #: ``[[collect]]``: what the collection stage fetches (``datasteward collect``).
    collect: tuple[CollectConfig, ...] = ()
    web: WebTable = field(default_factory=WebTable)
    #: ``[[annotations]]``, ``[labour]``, ``[representation]`` (docs/annotations.md).
    annotations: tuple[AnnotationsConfig, ...] = ()
    labour: LabourTable = field(default_factory=LabourTable)
    representation: RepresentationTable = field(default_factory=RepresentationTable)
    #: The TOML as parsed: what the recipe hash is computed from.
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return self.path.parent

    def canonical(self) -> str:
        """The recipe as canonical JSON (key order and formatting do not matter)."""
        return json.dumps(self.raw, sort_keys=True, separators=(",", ":"), default=str)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise RecipeError(f"no source named `{name}` in {self.path}")


def parse_recipe(text: str, path: Path) -> Recipe:
    """Parse and validate recipe text. ``path`` locates the recipe (relative paths)."""
    if text.startswith(_BOM):  # editors on Windows write one; TOML itself has no use for it
        text = text[len(_BOM) :]
    w = Where(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(
            f"{path}: not valid TOML: {exc}", hint="fix the syntax at that line"
        ) from None
    for key in data:
        if key not in _TOP_LEVEL:
            raise w.err(
                f"unknown top-level key `{key}`",
                key=key,
                table=None,
                hint="the recipe has: " + ", ".join(_TOP_LEVEL),
            )
    return Recipe(
        path=path,
        dataset=parse_dataset(w, data),
        stewards=parse_stewards(w, data),
        sources=parse_sources(w, data),
        steps=parse_steps(w, data),
        policy=parse_policy(w, data.get("policy")),
        audit=parse_audit(w, data.get("audit"), base_dir=path.parent),
        release=parse_empty(w, data.get("release"), ReleaseTable, "release"),
        run=parse_run(w, data.get("run")),
        takedown=parse_takedown(w, data.get("takedown")),
        collect=parse_collect(w, data.get("collect")),
        web=parse_web(w, data.get("web")),
        annotations=parse_annotations(w, data.get("annotations")),
        labour=parse_labour(w, data.get("labour")),
        representation=parse_representation(w, data.get("representation")),
        raw=data,
    )


def load_recipe(path: str | Path) -> Recipe:
    """Load a recipe file, or ``datasteward.toml`` in a folder."""
    p = Path(path)
    if p.is_dir():
        p = p / RECIPE_FILE
    if not p.exists():
        raise RecipeError(
            f"no recipe at {p}",
            hint="run `datasteward init DIR` to create one, or pass --recipe PATH",
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecipeError(f"{p}: the recipe is not UTF-8 text ({exc})") from None
    return parse_recipe(text, p.resolve())
