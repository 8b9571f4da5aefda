"""The public names of datasteward.rights are the ones we mean."""

from __future__ import annotations

import datasteward.rights as rights


def test_exported_members() -> None:
    exported = set(rights.__all__)
    public = {n for n in dir(rights) if not n.startswith("_") and n != "annotations"}
    modules = {
        "consent",
        "policy_fetcher",
        "licenses",
        "lineage",
        "notice",
        "optout_signals",
        "policy_check",
        "suppression",
        "terms",
        "headers",
        "html",
        "steps",
    }
    assert exported == public - modules
    assert all(getattr(rights, name) is not None for name in exported)
