"""The recipe's ``[policy]``: the intended use of the dataset, checked against every record.

::

    [policy]
    commercial = true               # the dataset will be used commercially
    share_alike_ok = false          # share-alike (copyleft) terms cannot be met downstream
    no_derivatives_ok = true        # records under ND licences may be kept
    attribution_ok = true           # credits can be shipped (NOTICE); false rejects BY licences
    require_known_license = true    # a record with licence `unknown` is a violation
    allowed_consent = ["explicit", "licence-only", "opt-out-honoured"]   # omitted: any
    deny_licenses = ["CC-BY-NC-ND-4.0"]                                  # SPDX ids never allowed

    [[policy.accept]]               # a violation accepted by a recorded decision
    source = "flickr"               # or "*"
    license = "CC-BY-NC-2.0"        # or "*"
    rule = "non_commercial"         # optional: every rule if omitted
    decision = "D-12: legal cleared the research-only release (2026-01-12)"

Rules (a record may break several): ``unknown_license``, ``non_commercial`` (intended use is
commercial, the licence says non-commercial or academic-only), ``unspecified_use`` (intended
use is commercial, the licence states no use), ``share_alike``, ``no_derivatives``,
``attribution``, ``consent``, ``denied_license``.

Terms come from the record's licence and, for a source with ``derived_from``, from its
upstreams too (most-restrictive rule, :mod:`datasteward.rights.lineage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from datasteward.errors import RecipeError
from datasteward.recipe.model import Recipe
from datasteward.recipe.tables import PolicyAccept, PolicyTable, policy_table
from datasteward.rights.lineage import lineage_graph, resolve
from datasteward.rights.terms import LicenseTerms, classify, combine

RULES = (
    "unknown_license",
    "denied_license",
    "non_commercial",
    "unspecified_use",
    "share_alike",
    "no_derivatives",
    "attribution",
    "consent",
)


@dataclass(frozen=True, kw_only=True)
class Policy(PolicyTable):
    """The recipe's ``[policy]`` with what its rules mean: which rules a record's terms and
    consent break, and which accepted decisions cover a violation. Its fields are the typed
    table's (:class:`datasteward.recipe.PolicyTable`), declared once there."""

    @classmethod
    def from_table(cls, table: PolicyTable) -> Policy:
        """The policy of a recipe's ``[policy]`` table (keys and types were checked when the
        recipe was read; the rule names of ``accept`` entries are checked here)."""
        for a in table.accept:
            if a.rule is not None and a.rule not in (*RULES, "*"):
                raise RecipeError(
                    f"{a.where}: [[policy.accept]] has unknown rule {a.rule!r}",
                    hint="rules are: " + ", ".join(RULES),
                )
        return cls(**{f.name: getattr(table, f.name) for f in fields(PolicyTable)})

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, where: str = "[policy]") -> Policy:
        """The policy of a ``[policy]`` table given as a mapping (outside a recipe file)."""
        return cls.from_table(policy_table(raw, where=where))

    # ---- the rules ------------------------------------------------------------------------
    def broken_rules(self, terms: LicenseTerms, consent: str | None) -> list[tuple[str, str]]:
        """(rule, why) for every rule the terms (and consent) break."""
        out: list[tuple[str, str]] = []
        if not terms.known:
            if self.require_known_license:
                out.append(("unknown_license", "the licence is unknown"))
        ids = set(terms.license.replace("(", " ").replace(")", " ").split()) - {"AND", "OR", "WITH"}
        denied = sorted(ids & set(self.deny_licenses))
        if denied:
            out.append(("denied_license", f"{', '.join(denied)} is in deny_licenses"))
        if self.commercial and terms.use in ("non-commercial", "academic-only"):
            out.append(("non_commercial", f"{terms.use} licence, commercial use intended"))
        elif self.commercial and terms.known and terms.use == "unspecified":
            out.append(("unspecified_use", "the licence states no permitted use"))
        if not self.share_alike_ok and terms.share_alike:
            out.append(("share_alike", "share-alike terms, share_alike_ok = false"))
        if not self.no_derivatives_ok and terms.no_derivatives:
            out.append(("no_derivatives", "no-derivatives terms, no_derivatives_ok = false"))
        if not self.attribution_ok and terms.attribution:
            out.append(("attribution", "attribution required, attribution_ok = false"))
        if self.allowed_consent is not None and (consent or "unknown") not in self.allowed_consent:
            out.append(("consent", f"consent {consent or 'unknown'!r} not in allowed_consent"))
        return out

    def acceptance(self, source: str, license: str, rule: str) -> PolicyAccept | None:
        for a in self.accept:
            if a.covers(source, license, rule):
                return a
        return None

    @property
    def needs_ledger(self) -> bool:
        return any(a.decision_id is not None for a in self.accept)

    def with_decisions(self, decisions: Mapping[int, str]) -> Policy:
        """The policy with ledger decisions resolved: an accept entry whose ``decision_id`` is
        not in ``decisions`` (id -> description) accepts nothing."""
        resolved = []
        for a in self.accept:
            if a.decision_id is None:
                resolved.append(a)
            elif a.decision_id in decisions:
                resolved.append(replace(a, decision=decisions[a.decision_id]))
        return replace(self, accept=tuple(resolved))


def ledger_decisions(project_dir: str | Path) -> dict[int, str]:
    """The ledger's decisions as id -> "decision #id: title (by who, date)"."""
    from datasteward.ledger import Ledger

    with Ledger.open(Path(project_dir)) as ledger:
        return {
            d.decision_id: f"decision #{d.decision_id}: {d.title} (by {d.by}, "
            f"{d.decided_at:%Y-%m-%d})"
            for d in ledger.list_decisions()
        }


def resolved_policy(recipe: Recipe, project_dir: str | Path | None = None) -> Policy:
    """The recipe's policy, with accept entries that name ledger decisions checked against
    the project's ledger (``project_dir`` defaults to the recipe's folder)."""
    policy = policy_of(recipe)
    if not policy.needs_ledger:
        return policy
    return policy.with_decisions(ledger_decisions(project_dir or recipe.dir))


@dataclass(frozen=True)
class Violation:
    """Records of one source and licence that break one rule of the policy."""

    source: str
    license: str
    rule: str
    records: int
    why: str
    #: The accepted-violation decision covering it, if any (then it does not fail a check).
    accepted: str | None = None
    example_ids: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "license": self.license,
            "rule": self.rule,
            "records": self.records,
            "why": self.why,
            "accepted": self.accepted,
            "example_ids": list(self.example_ids),
        }


class TermsResolver:
    """Terms of (source, record licence), with the source's lineage folded in; memoised."""

    def __init__(self, recipe: Recipe | None) -> None:
        self._upstream: dict[str, LicenseTerms | None] = {}
        self._memo: dict[tuple[str, str], LicenseTerms] = {}
        self._nodes = lineage_graph(recipe) if recipe is not None else {}

    def upstream_terms(self, source: str) -> LicenseTerms | None:
        if source not in self._upstream:
            node = self._nodes.get(source)
            if node is None or not node.derived_from:
                self._upstream[source] = None
            else:
                parents = [resolve(self._nodes, p).terms for p in node.derived_from]
                self._upstream[source] = combine(parents)
        return self._upstream[source]

    def terms(self, source: str, license: str | None) -> LicenseTerms:
        key = (source, license or "unknown")
        if key not in self._memo:
            own = classify(license)
            up = self.upstream_terms(source)
            self._memo[key] = own if up is None else combine([own, up])
        return self._memo[key]


def policy_of(recipe: Recipe) -> Policy:
    return Policy.from_table(recipe.policy)


def check(
    run_dir: str | Path,
    recipe: Recipe,
    *,
    examples: int = 3,
    project_dir: str | Path | None = None,
) -> list[Violation]:
    """Every (source, licence, rule) group of kept records that violates the recipe's policy.

    Accepted violations are returned too, with ``accepted`` set; a check fails on the others.
    An accept entry naming a ledger decision (``decision_id``) that the project's ledger does
    not hold accepts nothing, and the violations it would cover say so.
    """
    from datasteward.runs.find import kept_glob, query

    declared = policy_of(recipe)
    policy = resolved_policy(recipe, project_dir)
    missing = {a.decision_id for a in declared.accept} - {a.decision_id for a in policy.accept}
    resolver = TermsResolver(recipe)
    rows = query(
        f"""
        SELECT source, coalesce(license, 'unknown') AS license,
               coalesce(consent, 'unknown') AS consent, count(*) AS n,
               list(id ORDER BY id)[1:{int(examples)}] AS ids
        FROM read_parquet('{kept_glob(run_dir)}', union_by_name = true)
        GROUP BY ALL
        """
    )
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for source, license, consent, n, ids in rows:
        terms = resolver.terms(str(source), str(license))
        for rule, why in policy.broken_rules(terms, str(consent)):
            if rule != "consent" and terms.license != license:
                why = f"{why} (with lineage: {terms.license}, {terms.use})"
            g = groups.setdefault(
                (str(source), str(license), rule), {"n": 0, "why": why, "ids": []}
            )
            g["n"] += int(n)
            g["ids"].extend(str(i) for i in ids)
    out = []
    for (source, license, rule), g in sorted(groups.items()):
        acc = policy.acceptance(source, license, rule)
        dangling = declared.acceptance(source, license, rule) if acc is None else None
        if dangling is not None and dangling.decision_id in missing:
            g["why"] += (
                f"; [[policy.accept]] names decision #{dangling.decision_id}, not in the ledger"
            )
        out.append(
            Violation(
                source,
                license,
                rule,
                g["n"],
                g["why"],
                acc.decision if acc else None,
                tuple(sorted(g["ids"])[:examples]),
            )
        )
    return out
