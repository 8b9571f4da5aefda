"""Recipe model and loader.

A recipe is a TOML file that names the dataset, its stewards, its sources and its steps. It is
validated on load; every error names the key, its line and what was expected.
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
from datasteward.recipe._locate import locate

RECIPE_FILE = "datasteward.toml"

SOURCE_FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "text", "warc", "hf")
_TOP_LEVEL = ("dataset", "stewards", "sources", "steps", "policy", "run", "release", "audit")
_SOURCE_KEYS = {
    "name": str,
    "format": str,
    "path": str,
    "text_field": str,
    "id_field": str,
    "url_field": str,
    "date_field": str,
    "license_field": str,
    "license_version_field": str,
    "attribution_field": str,
    "consent_field": str,
    "license": str,
    "consent": str,
    "attribution": str,
    "derived_from": list,
    "options": dict,
}
_STEWARD_ROLES = ("maintainer", "owner", "reviewer", "legal", "contact", "contributor")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str = ""
    version: str | None = None
    homepage: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Steward:
    name: str
    email: str | None = None
    role: str = "maintainer"


@dataclass(frozen=True)
class SourceConfig:
    """One ``[[sources]]`` entry. Field names map input fields onto the record columns."""

    name: str
    format: str
    path: str
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = None
    date_field: str | None = None
    license_field: str | None = None
    license_version_field: str | None = None
    attribution_field: str | None = None
    consent_field: str | None = None
    license: str = "unknown"
    consent: str = "unknown"
    attribution: str | None = None
    derived_from: tuple[str, ...] = ()
    #: Format-specific options (e.g. ``delimiter`` for csv, ``extract`` for warc).
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Where in the recipe this source was declared, for error messages.
    where: str = ""


@dataclass(frozen=True)
class StepConfig:
    """One ``[[steps]]`` entry: the step name and its options."""

    use: str
    options: Mapping[str, Any]
    index: int
    where: str = ""

    @property
    def step_id(self) -> str:
        """A stable name for the step within the run, e.g. ``s02-filter.length``."""
        return f"s{self.index:02d}-{self.use.replace(':', '.')}"


@dataclass(frozen=True)
class Recipe:
    path: Path
    dataset: DatasetInfo
    stewards: tuple[Steward, ...]
    sources: tuple[SourceConfig, ...]
    steps: tuple[StepConfig, ...]
    policy: Mapping[str, Any] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
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


class _Ctx:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def err(
        self,
        msg: str,
        *,
        table: str | None = None,
        index: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> RecipeError:
        line = locate(self.text, table, index, key)
        where = f"{self.path}:{line}" if line else str(self.path)
        return RecipeError(f"{where}: {msg}", hint=hint)


def _expect(
    ctx: _Ctx,
    value: Any,
    typ: type | tuple[type, ...],
    *,
    name: str,
    table: str | None,
    index: int | None = None,
    key: str,
) -> Any:
    if typ is str and not isinstance(value, str):
        raise ctx.err(
            f"`{name}` must be a string, got {value!r}", table=table, index=index, key=key
        )
    if not isinstance(value, typ) or isinstance(value, bool) and typ is not bool:
        tname = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
        raise ctx.err(
            f"`{name}` must be a {tname}, got {type(value).__name__} {value!r}",
            table=table,
            index=index,
            key=key,
        )
    return value


def _parse_dataset(ctx: _Ctx, data: Mapping[str, Any]) -> DatasetInfo:
    ds = data.get("dataset")
    if ds is None:
        raise ctx.err(
            "missing table [dataset]",
            hint='add:\n[dataset]\nname = "my-dataset"\ndescription = "..."',
        )
    if not isinstance(ds, dict):
        raise ctx.err("`dataset` must be a table", key="dataset")
    if "name" not in ds:
        raise ctx.err("[dataset] needs a `name`", table="dataset")
    name = _expect(ctx, ds["name"], str, name="dataset.name", table="dataset", key="name")
    if not name.strip():
        raise ctx.err("`dataset.name` must not be empty", table="dataset", key="name")
    known = {"name", "description", "version", "homepage"}
    for key in ("description", "version", "homepage"):
        if key in ds:
            _expect(ctx, ds[key], str, name=f"dataset.{key}", table="dataset", key=key)
    return DatasetInfo(
        name=name,
        description=ds.get("description", ""),
        version=ds.get("version"),
        homepage=ds.get("homepage"),
        extra={k: v for k, v in ds.items() if k not in known},
    )


def _parse_stewards(ctx: _Ctx, data: Mapping[str, Any]) -> tuple[Steward, ...]:
    raw = data.get("stewards", [])
    if not isinstance(raw, list):
        raise ctx.err("`stewards` must be an array of tables ([[stewards]])", key="stewards")
    out = []
    for i, st in enumerate(raw):
        if not isinstance(st, dict) or "name" not in st:
            raise ctx.err("each [[stewards]] needs a `name`", table="stewards", index=i)
        for key in st:
            if key not in ("name", "email", "role"):
                raise ctx.err(
                    f"unknown key `{key}` in [[stewards]]",
                    table="stewards",
                    index=i,
                    key=key,
                    hint="a steward has name, email and role",
                )
        for key in ("name", "email", "role"):
            if key in st:
                _expect(
                    ctx, st[key], str, name=f"stewards.{key}", table="stewards", index=i, key=key
                )
        role = st.get("role", "maintainer")
        if role not in _STEWARD_ROLES:
            raise ctx.err(
                f"unknown steward role {role!r}",
                table="stewards",
                index=i,
                key="role",
                hint="use one of: " + ", ".join(_STEWARD_ROLES),
            )
        out.append(Steward(name=st["name"], email=st.get("email"), role=role))
    return tuple(out)


def _parse_sources(ctx: _Ctx, data: Mapping[str, Any]) -> tuple[SourceConfig, ...]:
    raw = data.get("sources")
    if not raw:
        raise ctx.err(
            "the recipe declares no [[sources]]",
            hint='add at least one:\n[[sources]]\nname = "web"\nformat = "jsonl"\n'
            'path = "data/*.jsonl"',
        )
    if not isinstance(raw, list):
        raise ctx.err("`sources` must be an array of tables ([[sources]])", key="sources")
    seen: set[str] = set()
    out = []
    for i, src in enumerate(raw):
        if not isinstance(src, dict):
            raise ctx.err("each [[sources]] must be a table", table="sources", index=i)
        for required in ("name", "format", "path"):
            if required not in src:
                raise ctx.err(f"[[sources]] #{i + 1} needs `{required}`", table="sources", index=i)
        for key, value in src.items():
            if key not in _SOURCE_KEYS:
                raise ctx.err(
                    f"unknown key `{key}` in [[sources]] `{src.get('name')}`",
                    table="sources",
                    index=i,
                    key=key,
                    hint="source keys are: " + ", ".join(_SOURCE_KEYS),
                )
            _expect(
                ctx,
                value,
                _SOURCE_KEYS[key],
                name=f"sources.{key}",
                table="sources",
                index=i,
                key=key,
            )
        name = src["name"]
        if name in seen:
            raise ctx.err(
                f"source name `{name}` is used twice; names must be unique",
                table="sources",
                index=i,
                key="name",
            )
        if not name or any(c in name for c in ":/\\ \t"):
            raise ctx.err(
                f"source name {name!r} must be non-empty, without ':', '/', '\\' or spaces",
                table="sources",
                index=i,
                key="name",
            )
        seen.add(name)
        fmt = src["format"]
        if fmt not in SOURCE_FORMATS:
            raise ctx.err(
                f"unknown source format {fmt!r}",
                table="sources",
                index=i,
                key="format",
                hint="use one of: " + ", ".join(SOURCE_FORMATS),
            )
        line = locate(ctx.text, "sources", i, None)
        fields = {k: v for k, v in src.items() if k not in ("derived_from",)}
        out.append(
            SourceConfig(
                **fields,
                derived_from=tuple(src.get("derived_from", ())),
                where=f"{ctx.path}:{line}" if line else str(ctx.path),
            )
        )
    return tuple(out)


def _parse_steps(ctx: _Ctx, data: Mapping[str, Any]) -> tuple[StepConfig, ...]:
    raw = data.get("steps", [])
    if not isinstance(raw, list):
        raise ctx.err("`steps` must be an array of tables ([[steps]])", key="steps")
    out = []
    for i, st in enumerate(raw):
        if not isinstance(st, dict) or "use" not in st:
            raise ctx.err(
                f"[[steps]] #{i + 1} needs `use` (the step name)",
                table="steps",
                index=i,
                hint='e.g. use = "filter.length"',
            )
        use = _expect(ctx, st["use"], str, name="steps.use", table="steps", index=i, key="use")
        line = locate(ctx.text, "steps", i, None)
        out.append(
            StepConfig(
                use=use,
                options={k: v for k, v in st.items() if k != "use"},
                index=i + 1,
                where=f"{ctx.path}:{line}" if line else str(ctx.path),
            )
        )
    return tuple(out)


def parse_recipe(text: str, path: Path) -> Recipe:
    """Parse and validate recipe text. ``path`` locates the recipe (relative paths)."""
    ctx = _Ctx(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(
            f"{path}: not valid TOML: {exc}", hint="fix the syntax at that line"
        ) from None
    for key in data:
        if key not in _TOP_LEVEL:
            raise ctx.err(
                f"unknown top-level key `{key}`",
                key=key,
                table=None,
                hint="the recipe has: " + ", ".join(_TOP_LEVEL),
            )
    for key in ("policy", "run", "release"):
        if key in data and not isinstance(data[key], dict):
            raise ctx.err(f"`{key}` must be a table ([{key}])", key=key)
    recipe = Recipe(
        path=path,
        dataset=_parse_dataset(ctx, data),
        stewards=_parse_stewards(ctx, data),
        sources=_parse_sources(ctx, data),
        steps=_parse_steps(ctx, data),
        policy=data.get("policy", {}),
        run=data.get("run", {}),
        raw=data,
    )
    return recipe


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
