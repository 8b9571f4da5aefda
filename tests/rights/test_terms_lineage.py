"""Licence classification (DPI categories) and lineage with the most-restrictive rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasteward.errors import RecipeError
from datasteward.recipe.model import parse_recipe
from datasteward.rights.lineage import resolve_source
from datasteward.rights.terms import USES, classify, combine


@pytest.mark.parametrize(
    ("spdx", "use", "flags"),
    [
        ("CC-BY-4.0", "commercial", (True, False, False)),
        ("CC-BY-SA-2.0", "commercial", (True, True, False)),
        ("CC-BY-NC-ND-4.0", "non-commercial", (True, False, True)),
        ("LicenseRef-CC-BY-NC-ND-2.0-JP", "non-commercial", (True, False, True)),
        ("CC0-1.0", "commercial", (False, False, False)),
        ("CC-PDM-1.0", "commercial", (False, False, False)),
        ("MIT", "commercial", (True, False, False)),
        ("Apache-2.0", "commercial", (True, False, False)),
        ("ODbL-1.0", "commercial", (True, True, False)),
        ("PDDL-1.0", "commercial", (False, False, False)),
        ("GPL-3.0-only", "commercial", (True, True, False)),
        ("LicenseRef-datasteward-academic-only", "academic-only", (True, False, False)),
    ],
)
def test_classification(spdx: str, use: str, flags: tuple[bool, bool, bool]) -> None:
    t = classify(spdx)
    assert t.known
    assert (t.use, (t.attribution, t.share_alike, t.no_derivatives)) == (use, flags)


def test_unknown_and_expressions() -> None:
    assert not classify("unknown").known
    assert classify("unknown").use == "unspecified"
    both = classify("CC-BY-SA-4.0 AND CC-BY-NC-4.0")
    assert (both.use, both.share_alike, both.attribution) == ("non-commercial", True, True)
    choice = classify("MIT OR GPL-3.0-only")  # the user may pick MIT
    assert (choice.use, choice.share_alike) == ("commercial", False)


_KNOWN = [
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-ND-4.0",
    "CC0-1.0",
    "MIT",
    "ODbL-1.0",
    "LicenseRef-datasteward-academic-only",
    "unknown",
]


@given(st.lists(st.sampled_from(_KNOWN), min_size=1, max_size=5))
def test_combine_is_most_restrictive(ids: list[str]) -> None:
    parts = [classify(i) for i in ids]
    c = combine(parts)
    assert USES.index(c.use) == max(USES.index(p.use) for p in parts)
    assert c.share_alike == any(p.share_alike for p in parts)
    assert c.known == all(p.known for p in parts)
    if not c.known:
        assert c.license == "unknown"
    if any(p.attribution for p in parts):
        assert c.attribution is True
    # order does not matter
    r = combine(list(reversed(parts)))
    assert (r.use, r.attribution, r.share_alike, r.known) == (
        c.use,
        c.attribution,
        c.share_alike,
        c.known,
    )


RECIPE = """
[dataset]
name = "d"

[[sources]]
name = "captions"
format = "csv"
path = "x.csv"
license = "CC-BY-4.0"
derived_from = ["flickr-nc", "wiki"]

[[sources]]
name = "flickr-nc"
format = "csv"
path = "y.csv"
license = "by-nc 2.0"

[[sources]]
name = "mirror"
format = "jsonl"
path = "z.jsonl"
derived_from = ["laion"]

[policy.upstream.wiki]
license = "https://creativecommons.org/licenses/by-sa/4.0/"

[policy.upstream.laion]
license = "CC-BY-4.0"
derived_from = ["common-crawl"]

[policy.upstream.common-crawl]
license = "unknown"
"""


def _recipe(text: str = RECIPE):  # type: ignore[no-untyped-def]
    return parse_recipe(text, Path("/tmp/datasteward.toml"))


def test_lineage_inherits_most_restrictive_terms() -> None:
    lin = resolve_source(_recipe(), "captions")
    assert lin.terms.known
    assert lin.terms.use == "non-commercial"  # from flickr-nc, beats its own CC-BY
    assert lin.terms.share_alike  # from wiki, accumulates
    assert lin.terms.attribution
    assert set(lin.terms.license.split(" AND ")) == {"CC-BY-4.0", "CC-BY-NC-2.0", "CC-BY-SA-4.0"}
    assert ("flickr-nc", "CC-BY-NC-2.0") in lin.ancestors
    assert "captions" in lin.evidence()


def test_unknown_upstream_propagates_through_two_levels() -> None:
    lin = resolve_source(_recipe(), "mirror")  # mirror <- laion <- common-crawl (unknown)
    assert not lin.terms.known
    assert lin.terms.license == "unknown"
    assert lin.terms.attribution is True  # laion's known BY requirement is still reported
    assert [a[0] for a in lin.ancestors] == ["laion", "common-crawl"]


def test_lineage_errors_name_the_problem() -> None:
    bad = RECIPE.replace('derived_from = ["common-crawl"]', 'derived_from = ["nowhere"]')
    with pytest.raises(RecipeError, match="`nowhere`"):
        resolve_source(_recipe(bad), "mirror")
    cyc = RECIPE.replace('license = "unknown"', 'license = "unknown"\nderived_from = ["laion"]')
    with pytest.raises(RecipeError, match="cycle: laion -> common-crawl -> laion"):
        resolve_source(_recipe(cyc), "mirror")
