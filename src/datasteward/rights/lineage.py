"""Licence lineage: a source derived from other datasets inherits their terms.

A recipe source declares ``derived_from = ["name", ...]``. Each name is either another source
of the recipe or an *upstream* dataset declared in the recipe's ``[policy.upstream.<name>]``
table::

    [policy.upstream.laion-400m]
    license = "CC-BY-4.0"                 # any string normalize_license understands
    derived_from = ["common-crawl"]       # optional: upstreams may have upstreams
    url = "https://laion.ai/blog/laion-400-open-dataset/"   # optional, for the record

    [policy.upstream.common-crawl]
    license = "unknown"                   # terms of use, not a licence: stays unknown

The effective terms of a source are its own licence (if it states one) combined with the
effective terms of everything it derives from, by the most-restrictive rule of
:func:`datasteward.rights.terms.combine`. A source that declares ``derived_from`` but no
``license`` of its own simply carries its upstreams' terms. Cycles and unknown names are
recipe errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from datasteward.errors import RecipeError
from datasteward.recipe.model import Recipe
from datasteward.recipe.tables import Upstream
from datasteward.rights.licenses import normalize_license
from datasteward.rights.terms import LicenseTerms, classify, combine


@dataclass(frozen=True)
class Node:
    """A dataset in the lineage graph: a recipe source or a declared upstream."""

    name: str
    license: str  # as declared (normalised on use)
    derived_from: tuple[str, ...]
    kind: str  # "source" | "upstream"


@dataclass(frozen=True)
class Lineage:
    """The effective terms of a dataset and how they were reached."""

    name: str
    terms: LicenseTerms
    #: Every ancestor with its own normalised licence, nearest first: (name, spdx).
    ancestors: tuple[tuple[str, str], ...]

    def evidence(self) -> str:
        chain = ", ".join(f"{n}={lic}" for n, lic in self.ancestors)
        return f"lineage of {self.name}: {chain} -> {self.terms.license} ({self.terms.use})"


def upstream_table(upstream: Mapping[str, Upstream]) -> dict[str, Node]:
    """The ``[policy.upstream.NAME]`` tables (parsed and type-checked by the recipe) as nodes."""
    return {
        name: Node(name, entry.license, entry.derived_from, "upstream")
        for name, entry in upstream.items()
    }


def lineage_graph(recipe: Recipe) -> dict[str, Node]:
    """Every node of the recipe's lineage graph: its sources and declared upstreams."""
    nodes = upstream_table(recipe.policy.upstream)
    for src in recipe.sources:
        if src.name in nodes:
            raise RecipeError(
                f"`{src.name}` is both a source and a [policy.upstream] entry",
                hint="rename one of them",
            )
        nodes[src.name] = Node(src.name, src.license, tuple(src.derived_from), "source")
    return nodes


def resolve(nodes: Mapping[str, Node], name: str) -> Lineage:
    """The effective terms of ``name`` under the most-restrictive rule."""
    memo: dict[str, Lineage] = {}

    def visit(n: str, stack: tuple[str, ...]) -> Lineage:
        if n in stack:
            cycle = " -> ".join((*stack[stack.index(n) :], n))
            raise RecipeError(f"licence lineage has a cycle: {cycle}", hint="fix `derived_from`")
        if n in memo:
            return memo[n]
        node = nodes.get(n)
        if node is None:
            parent = stack[-1] if stack else "?"
            raise RecipeError(
                f"`{parent}` is derived from `{n}`, which is neither a source nor an upstream",
                hint=f'declare it:\n[policy.upstream.{n}]\nlicense = "..."',
            )
        own = normalize_license(node.license)
        parts: list[LicenseTerms] = []
        ancestors: list[tuple[str, str]] = []
        own_stated = own.resolved or not node.derived_from
        if own_stated:
            parts.append(classify(own.spdx))
        for parent in node.derived_from:
            sub = visit(parent, (*stack, n))
            parts.append(sub.terms)
            ancestors.append((parent, normalize_license(nodes[parent].license).spdx))
            ancestors.extend(a for a in sub.ancestors if a not in ancestors)
        terms = combine(parts) if node.derived_from else parts[0]
        result = Lineage(n, terms, tuple(ancestors))
        memo[n] = result
        return result

    return visit(name, ())


def resolve_source(recipe: Recipe, name: str) -> Lineage:
    return resolve(lineage_graph(recipe), name)
