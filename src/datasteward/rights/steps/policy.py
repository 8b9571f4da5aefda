"""``rights.policy``: remove the records that violate the recipe's ``[policy]``.

The filter form of ``datasteward check``: the same rules and the same lineage, decided per
record under the policy of the recipe the run was started with (``StepContext.recipe``, the
recipe hashed into the run record) and traced with reason ``policy_<rule>``
(``policy_non_commercial``, ``policy_unknown_license``...). Violations accepted in
``[policy] accept`` are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.recipe.model import Recipe
from datasteward.rights.policy_check import RULES, Policy, TermsResolver, policy_of, resolved_policy
from datasteward.steps.base import Filter, FilterDecision, StepContext, StepOptions


@dataclass(frozen=True)
class PolicyOptions(StepOptions):
    """Options of ``rights.policy``."""

    #: The rules enforced (default: all of them; see docs/rights.md).
    rules: tuple[str, ...] = RULES
    #: Keep violations covered by ``[policy] accept`` entries.
    honour_accept: bool = True

    def validate(self) -> None:
        bad = sorted(set(self.rules) - set(RULES))
        if bad:
            raise StepError(
                f"rights.policy: unknown rule(s) {bad}", hint="rules are: " + ", ".join(RULES)
            )


class PolicyFilter(Filter):
    """Remove records whose licence, lineage or consent breaks the recipe's policy."""

    name: ClassVar[str] = "rights.policy"
    whatif_unsupported: ClassVar[str] = (
        "the policy is applied to licence columns; re-run `datasteward check`"
    )
    Options: ClassVar[type[StepOptions]] = PolicyOptions

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self.policy: Policy | None = None
        self.resolver: TermsResolver | None = None

    def check_recipe(self, recipe: Recipe) -> None:
        policy_of(recipe)

    def setup(self, ctx: StepContext) -> None:
        # the recipe the run was started with, not whatever datasteward.toml is on disk: the
        # policy applied is the policy hashed into the run record
        recipe = ctx.require_recipe(self.name)
        self.policy = resolved_policy(recipe, recipe.dir)
        self.resolver = TermsResolver(recipe)

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        if self.policy is None or self.resolver is None:
            raise StepError("rights.policy: setup() was not called before decide()")
        opts = self.options
        if not isinstance(opts, PolicyOptions):  # pragma: no cover
            raise StepError("rights.policy: wrong options type")
        enforced = set(opts.rules)
        sources = batch.column("source").to_pylist()
        licenses = batch.column("license").to_pylist()
        consents = batch.column("consent").to_pylist()
        n = batch.num_rows
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        details: list[str | None] = [None] * n
        memo: dict[tuple[str, str, str], tuple[str, str] | None] = {}
        for i in range(n):
            key = (sources[i], licenses[i] or "unknown", consents[i] or "unknown")
            if key not in memo:
                terms = self.resolver.terms(key[0], key[1])
                verdict = None
                for rule, why in self.policy.broken_rules(terms, key[2]):
                    if rule not in enforced:
                        continue
                    if opts.honour_accept and self.policy.acceptance(key[0], key[1], rule):
                        continue
                    verdict = (f"policy_{rule}", f"{key[1]}: {why}")
                    break
                memo[key] = verdict
            verdict = memo[key]
            if verdict is not None:
                keep[i] = False
                reasons[i], details[i] = verdict
        return FilterDecision(keep=keep, reason=reasons, detail=details)
