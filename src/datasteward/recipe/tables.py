"""The recipe's settings tables: ``[policy]``, ``[audit]``, ``[release]`` and ``[run]`` —
typed, frozen, validated once with file:line errors.

What needs a domain's knowledge stays with the domain: the names of the policy rules and what
they mean are checked by :mod:`datasteward.rights.policy_check`, slice SQL by the audit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from datasteward.errors import RecipeError
from datasteward.recipe._typed import build
from datasteward.recipe._where import Where
from datasteward.recipe.consent import CONSENT_VALUES

_SLICE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


# ---- [policy] ------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class PolicyAccept:
    """One ``[[policy.accept]]`` entry: a violation accepted by a recorded decision."""

    #: A source name, or "*".
    source: str
    #: A licence (SPDX id), or "*".
    license: str
    #: The rule accepted (every rule if omitted).
    rule: str | None = None
    #: Free text naming the decision...
    decision: str = ""
    #: ...or a decision recorded in the ledger (``datasteward decide``), by number.
    decision_id: int | None = None
    where: str = ""

    def covers(self, source: str, license: str, rule: str) -> bool:
        """Whether this entry accepts breaking ``rule`` by records of ``source`` under
        ``license``."""
        return (
            self.source in ("*", source)
            and self.license in ("*", license)
            and self.rule in (None, "*", rule)
        )


@dataclass(frozen=True, kw_only=True)
class Upstream:
    """One ``[policy.upstream.NAME]`` table: a dataset a source is derived from."""

    license: str = "unknown"
    derived_from: tuple[str, ...] = ()
    url: str | None = None
    note: str | None = None
    where: str = ""


@dataclass(frozen=True, kw_only=True)
class PolicyTable:
    """``[policy]``: the intended use of the dataset (the rules: docs/rights.md)."""

    commercial: bool = False
    share_alike_ok: bool = True
    no_derivatives_ok: bool = True
    attribution_ok: bool = True
    require_known_license: bool = True
    #: Consent values allowed (None: any).
    allowed_consent: tuple[str, ...] | None = None
    deny_licenses: tuple[str, ...] = ()
    accept: tuple[PolicyAccept, ...] = ()
    upstream: Mapping[str, Upstream] = field(default_factory=dict)
    #: Where the table is, for the messages of the rules' own checks.
    where: str = "[policy]"


def _accept_where(w: Where, i: int) -> str:
    line = w.at("policy.accept", i)
    return line if line != str(w.path) else w.at("policy", None, "accept")


def parse_policy(w: Where, raw: Any) -> PolicyTable:
    if raw is None:
        return PolicyTable(where=f"{w.path} [policy]" if w.text else str(w.path))
    if not isinstance(raw, dict):
        raise w.err("`policy` must be a table ([policy])", key="policy")
    table = build(
        PolicyTable,
        raw,
        w,
        table="policy",
        skip=frozenset({"accept", "upstream"}),
        extra={"where": f"{w.at('policy')} [policy]" if w.text else str(w.path)},
    )
    bad = [c for c in table.allowed_consent or () if c not in CONSENT_VALUES]
    if bad:
        raise w.err(
            f"[policy] allowed_consent has unknown value(s) {bad}",
            table="policy",
            key="allowed_consent",
            hint="consent values are: " + ", ".join(CONSENT_VALUES),
        )
    accept = raw.get("accept", [])
    if not isinstance(accept, list):
        raise w.err("`accept` must be an array of tables ([[policy.accept]])", table="policy")
    entries = []
    for i, item in enumerate(accept):
        where = _accept_where(w, i)
        if (
            not isinstance(item, dict)
            or not {"source", "license"} <= set(item)
            or not ({"decision", "decision_id"} & set(item))
        ):
            raise RecipeError(
                f"{where}: [policy] accept[{i}] needs source, license and decision "
                "(or decision_id)",
                hint='e.g. { source = "web", license = "unknown", decision_id = 3 }',
            )
        did = item.get("decision_id")
        if did is not None and (not isinstance(did, int) or isinstance(did, bool)):
            raise RecipeError(
                f"{where}: [policy] accept[{i}].decision_id must be a ledger decision number",
                hint="`datasteward log` lists the decisions and their numbers",
            )
        entries.append(
            build(
                PolicyAccept,
                item,
                w,
                table="policy.accept",
                index=i,
                label="[[policy.accept]]",
                extra={"where": where},
            )
        )
    ups = raw.get("upstream", {})
    if not isinstance(ups, dict) or not all(isinstance(u, dict) for u in ups.values()):
        raise w.err(
            "[policy.upstream] must be a table of tables ([policy.upstream.NAME] with a `license`)",
            table="policy",
            key="upstream",
        )
    upstream = {
        str(name): build(
            Upstream,
            entry,
            w,
            table=f"policy.upstream.{name}",
            label=f"[policy.upstream.{name}]",
            extra={"where": w.at(f"policy.upstream.{name}")},
        )
        for name, entry in ups.items()
    }
    return replace(table, accept=tuple(entries), upstream=upstream)


def policy_table(raw: Mapping[str, Any], *, where: str = "[policy]") -> PolicyTable:
    """A ``[policy]`` table given as a mapping rather than in a recipe file; errors name
    ``where``."""
    return parse_policy(Where(Path(where), ""), dict(raw))


# ---- [audit] -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SqlSlice:
    """A user slice: the value of a DuckDB SQL expression over a record's columns."""

    name: str
    sql: str


@dataclass(frozen=True, kw_only=True)
class AuditConfig:
    """``[audit]``: what an audit measures and how it flags (CLI options override it)."""

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
    #: Lexicons of term groups; ``identity-en`` is the built-in identity lexicon. Paths are
    #: relative to the recipe's folder (made absolute when the recipe is read).
    lexicons: tuple[str, ...] = ("identity-en",)
    #: User slices (SQL expressions).
    slices: tuple[SqlSlice, ...] = ()
    #: Characters of text shown per sampled record.
    sample_chars: int = 1200
    #: DuckDB memory limit (it spills to disk beyond it).
    memory_limit: str = "2GB"
    #: Metadata whose composition the report shows: record columns, or keys of the ``metadata``
    #: JSON (e.g. ``["provider", "width"]``). Numbers as histograms, others as categories.
    metadata_columns: tuple[str, ...] = ()

    def validate(self) -> None:
        if self.min_ratio < 1.0:
            raise RecipeError(f"[audit] min_ratio must be >= 1, got {self.min_ratio}")
        if not 0.5 <= self.confidence < 1.0:
            raise RecipeError(f"[audit] confidence must be in [0.5, 1), got {self.confidence}")
        for name in ("min_records", "min_removed", "top_values", "samples", "sample_chars"):
            if getattr(self, name) < 0:
                raise RecipeError(f"[audit] {name} must be >= 0")
        for m in self.metadata_columns:
            if not m.strip():
                raise RecipeError(
                    "[audit] metadata_columns holds an empty name",
                    hint='name record columns or metadata keys, e.g. ["provider", "width"]',
                )
        seen: set[str] = set()
        for s in self.slices:
            if not _SLICE_NAME.fullmatch(s.name):
                raise RecipeError(
                    f"[audit] slice name {s.name!r} must start with a letter and hold only "
                    "letters, digits and _"
                )
            if s.name in seen:
                raise RecipeError(f"[audit] slice name {s.name!r} is used twice")
            seen.add(s.name)

    def with_overrides(self, **changes: Any) -> AuditConfig:
        clean = {k: v for k, v in changes.items() if v is not None}
        out = replace(self, **clean)
        out.validate()
        return out


def parse_audit(w: Where, raw: Any, *, base_dir: Path) -> AuditConfig:
    """``[audit]`` (defaults when absent); lexicon paths made absolute against ``base_dir``."""
    if raw is None:
        return AuditConfig()
    if not isinstance(raw, dict):
        raise w.err("`audit` must be a table ([audit])", key="audit")
    slices_raw = raw.get("slices", [])
    if not isinstance(slices_raw, list):
        raise w.err(
            "[audit] slices must be an array of tables ([[audit.slices]])",
            table="audit",
            key="slices",
        )
    slices = []
    for i, s in enumerate(slices_raw):
        if not (isinstance(s, dict) and isinstance(s.get("name"), str)) or not isinstance(
            s.get("sql"), str
        ):
            raise w.err(
                f"[[audit.slices]] #{i + 1} needs `name` and `sql` strings",
                table="audit.slices",
                index=i,
                hint='e.g. name = "short", sql = "length_words < 100"',
            )
        slices.append(
            build(SqlSlice, s, w, table="audit.slices", index=i, label="[[audit.slices]]")
        )
    cfg = build(AuditConfig, raw, w, table="audit", skip=frozenset({"slices"}))
    cfg = replace(
        cfg,
        slices=tuple(slices),
        lexicons=tuple(
            v if v == "identity-en" or Path(v).is_absolute() else str(base_dir / v)
            for v in cfg.lexicons
        ),
    )
    try:
        cfg.validate()
    except RecipeError as exc:
        if not w.text:
            raise
        raise RecipeError(f"{w.at('audit')}: {exc.message}", hint=exc.hint) from None
    return cfg


def audit_table(raw: Mapping[str, Any] | None, *, base_dir: Path) -> AuditConfig:
    """An ``[audit]`` table given as a mapping rather than in a recipe file."""
    return parse_audit(
        Where(Path("[audit]"), ""), None if raw is None else dict(raw), base_dir=base_dir
    )


# ---- [release], [run] ----------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ReleaseTable:
    """``[release]``: how the site (``datasteward serve``) offers the releases; the release
    itself is made with the flags of ``datasteward release``."""

    #: ``open``: anyone downloads the data files; ``gated``: a person asks (name, affiliation,
    #: intended use, accepting ``terms``) and a maintainer approves before they may.
    access: str = "open"
    #: The terms a person accepts to download a gated release (Markdown).
    terms: str = ""
    #: Show the audit summary (funnel) of the release's run on its public page.
    publish_audit: bool = False


RELEASE_ACCESS = ("open", "gated")


#: The executors a recipe can name in ``[run] executor``.
EXECUTORS = ("local", "ray")


@dataclass(frozen=True, kw_only=True)
class RunTable:
    """``[run]``: how the recipe runs by default (``datasteward run`` flags override it)."""

    #: ``local`` (worker processes on this machine) or ``ray`` (a Ray cluster).
    executor: str = "local"
    #: The Ray cluster: ``auto`` (the running one), ``ray://host:10001`` or ``host:6379``;
    #: none starts a Ray instance on this machine for the run.
    address: str | None = None
    #: Partitions of a global step's index (the hash buckets deduplication decides in
    #: parallel). Part of the recipe, so every run of it makes the same tasks; the decisions
    #: do not depend on it.
    partitions: int = 8
    #: Split input files larger than this many MB into parts of about this size, one task
    #: each (JSON Lines at line ends, Parquet by row groups, ``.warc.gz`` by gzip members);
    #: 0 never splits. See docs/runs.md.
    split_mb: float = 64.0


def parse_run(w: Where, raw: Any) -> RunTable:
    """``[run]`` (absent: the defaults)."""
    if raw is None:
        return RunTable()
    if not isinstance(raw, dict):
        raise w.err("`run` must be a table ([run])", key="run")
    table = build(RunTable, raw, w, table="run")
    if table.executor not in EXECUTORS:
        raise w.err(
            f"`executor` in [run] must be one of {', '.join(EXECUTORS)}, got {table.executor!r}",
            table="run",
            key="executor",
        )
    if not 1 <= table.partitions <= 65536:
        raise w.err(
            f"`partitions` in [run] must be from 1 to 65536, got {table.partitions}",
            table="run",
            key="partitions",
            hint="a few per worker core is plenty (the default is 8)",
        )
    if not 0 <= table.split_mb < float("inf"):
        raise w.err(
            f"`split_mb` in [run] must be a number of MB >= 0, got {table.split_mb!r}",
            table="run",
            key="split_mb",
            hint="e.g. split_mb = 64 (0 never splits a file)",
        )
    return table


def parse_empty(w: Where, raw: Any, cls: type[ReleaseTable], name: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise w.err(f"`{name}` must be a table ([{name}])", key=name)
    table = build(cls, raw, w, table=name)
    if table.access not in RELEASE_ACCESS:
        raise w.err(
            f"`access` in [{name}] must be one of {', '.join(map(repr, RELEASE_ACCESS))}, "
            f"got {table.access!r}",
            table=name,
            key="access",
            hint='"gated" also needs `terms` (what a person accepts to download)',
        )
    if table.access == "gated" and not table.terms.strip():
        raise w.err(
            f'[{name}] access = "gated" needs `terms`: what a person accepts to download',
            table=name,
            key="terms",
            hint='e.g. terms = "Research use only; do not redistribute."',
        )
    return table
