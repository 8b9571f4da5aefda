"""The recipe's identity and inputs: ``[dataset]``, ``[[stewards]]``, ``[[sources]]`` and
``[[steps]]`` — typed, frozen, validated with file:line errors.

A step's own options are not checked here: each step's frozen options dataclass is built by
the step kit (:func:`datasteward.steps.base.build_options`), which names the step and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from datasteward.recipe._typed import build
from datasteward.recipe._where import Where
from datasteward.recipe.consent import normalize_consent

SOURCE_FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "text", "warc", "hf", "webdataset")
#: What a run does with a later record whose source id (``id_field``) was seen before.
ON_DUPLICATE_ID = ("quarantine", "fail")
STEWARD_ROLES = ("maintainer", "owner", "reviewer", "legal", "contact", "contributor")


@dataclass(frozen=True, kw_only=True)
class DatasetInfo:
    """``[dataset]``: what the dataset is called and what it is."""

    #: Short, unique name, used in run ids and releases.
    name: str
    #: One or two sentences: what and why.
    description: str = ""
    version: str | None = None
    homepage: str | None = None
    #: Languages of the content (ISO 639-1 codes such as "en"), for the dataset card.
    language: tuple[str, ...] = ()
    #: Hugging Face Hub task categories (e.g. "text-generation"), for the dataset card.
    task_categories: tuple[str, ...] = ()
    #: Free keywords: the card's tags, Croissant ``keywords``, DataCite ``subjects``.
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Steward:
    """One ``[[stewards]]`` entry: a person who answers for the dataset."""

    name: str
    email: str | None = None
    role: str = "maintainer"


@dataclass(frozen=True, kw_only=True)
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
    #: One of the consent vocabulary (:data:`datasteward.recipe.consent.CONSENT_VALUES`).
    consent: str = "unknown"
    attribution: str | None = None
    derived_from: tuple[str, ...] = ()
    #: A later record with an id seen before (``id_field``, WARC record ids): "quarantine"
    #: it (the first copy in input order is kept) or "fail" the run, listing the ids.
    on_duplicate_id: str = "quarantine"
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


def parse_dataset(w: Where, data: Mapping[str, Any]) -> DatasetInfo:
    ds = data.get("dataset")
    if ds is None:
        raise w.err(
            "missing table [dataset]",
            hint='add:\n[dataset]\nname = "my-dataset"\ndescription = "..."',
        )
    if not isinstance(ds, dict):
        raise w.err("`dataset` must be a table ([dataset])", key="dataset")
    raw = dict(ds)
    for key in ("language", "task_categories", "keywords"):
        if isinstance(raw.get(key), str):  # one value may be written as a string
            raw[key] = [raw[key]]
    info = build(DatasetInfo, raw, w, table="dataset")
    if not info.name.strip():
        raise w.err("`name` in [dataset] must not be empty", table="dataset", key="name")
    return info


def parse_stewards(w: Where, data: Mapping[str, Any]) -> tuple[Steward, ...]:
    raw = data.get("stewards", [])
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise w.err("`stewards` must be an array of tables ([[stewards]])", key="stewards")
    out = []
    for i, entry in enumerate(raw):
        st = build(Steward, entry, w, table="stewards", index=i, label="[[stewards]]")
        if st.role not in STEWARD_ROLES:
            raise w.err(
                f"unknown steward role {st.role!r}",
                table="stewards",
                index=i,
                key="role",
                hint="use one of: " + ", ".join(STEWARD_ROLES),
            )
        out.append(st)
    return tuple(out)


def parse_sources(w: Where, data: Mapping[str, Any]) -> tuple[SourceConfig, ...]:
    raw = data.get("sources")
    if not raw:
        raise w.err(
            "the recipe declares no [[sources]]",
            hint='add at least one:\n[[sources]]\nname = "web"\nformat = "jsonl"\n'
            'path = "data/*.jsonl"',
        )
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise w.err("`sources` must be an array of tables ([[sources]])", key="sources")
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(raw):
        label = f"[[sources]] `{entry.get('name', f'#{i + 1}')}`"
        src = build(
            SourceConfig,
            entry,
            w,
            table="sources",
            index=i,
            label=label,
            extra={"where": w.at("sources", i)},
        )
        if src.name in seen:
            raise w.err(
                f"source name `{src.name}` is used twice; names must be unique",
                table="sources",
                index=i,
                key="name",
            )
        if not src.name or any(c in src.name for c in ":/\\ \t"):
            raise w.err(
                f"source name {src.name!r} must be non-empty, without ':', '/', '\\' or spaces",
                table="sources",
                index=i,
                key="name",
            )
        seen.add(src.name)
        if src.format not in SOURCE_FORMATS:
            raise w.err(
                f"unknown source format {src.format!r}",
                table="sources",
                index=i,
                key="format",
                hint="use one of: " + ", ".join(SOURCE_FORMATS),
            )
        if src.on_duplicate_id not in ON_DUPLICATE_ID:
            raise w.err(
                f"`on_duplicate_id` must be one of {', '.join(map(repr, ON_DUPLICATE_ID))}, "
                f"got {src.on_duplicate_id!r}",
                table="sources",
                index=i,
                key="on_duplicate_id",
                hint='"quarantine" keeps the first copy of each id and quarantines the later '
                'ones; "fail" stops the run and lists the duplicate ids',
            )
        if "consent" in entry:
            consent = normalize_consent(src.consent, where=w.at("sources", i, "consent"))
            src = replace(src, consent=consent)
        out.append(src)
    return tuple(out)


def parse_steps(w: Where, data: Mapping[str, Any]) -> tuple[StepConfig, ...]:
    raw = data.get("steps", [])
    if not isinstance(raw, list):
        raise w.err("`steps` must be an array of tables ([[steps]])", key="steps")
    out = []
    for i, st in enumerate(raw):
        if not isinstance(st, dict) or "use" not in st:
            raise w.err(
                f"[[steps]] #{i + 1} needs `use` (the step name)",
                table="steps",
                index=i,
                hint='e.g. use = "filter.length"',
            )
        use = st["use"]
        if not isinstance(use, str):
            raise w.err(
                f"`use` in [[steps]] #{i + 1} must be a string, got {use!r}",
                table="steps",
                index=i,
                key="use",
            )
        out.append(
            StepConfig(
                use=use,
                options={k: v for k, v in st.items() if k != "use"},
                index=i + 1,
                where=w.at("steps", i),
            )
        )
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class WebTable:
    """``[web]``: the stewardship site (``datasteward serve``). Secrets never go here: SMTP
    credentials come from ``DATASTEWARD_SMTP_USER`` / ``DATASTEWARD_SMTP_PASSWORD``."""

    #: Where the site sends e-mail: ``smtp://host:port`` or ``smtps://host:port``; none: the
    #: takedown form says it cannot take requests by e-mail confirmation.
    smtp_url: str | None = None
    #: The From address of the site's e-mails.
    mail_from: str = "datasteward@localhost"
    #: The site's public address (``https://data.example.org``), used in e-mailed links; none:
    #: the address the request came to.
    base_url: str | None = None


def parse_web(w: Where, raw: Any) -> WebTable:
    """``[web]`` (absent: the defaults)."""
    if raw is None:
        return WebTable()
    if not isinstance(raw, dict):
        raise w.err("`web` must be a table ([web])", key="web")
    table = build(WebTable, raw, w, table="web")
    if table.smtp_url is not None and not table.smtp_url.startswith(("smtp://", "smtps://")):
        raise w.err(
            f"`smtp_url` in [web] must start with smtp:// or smtps://, got {table.smtp_url!r}",
            table="web",
            key="smtp_url",
            hint='e.g. smtp_url = "smtp://127.0.0.1:25"',
        )
    return table
