"""``[takedown]``: what each kind of takedown request does (issue 19).

```toml
[takedown.policy]
privacy = "erase"     # withdraw every release holding the record, erase it everywhere
legal = "erase"
copyright = "patch"   # a patch release; earlier releases stay as they were
harmful = "patch"
other = "patch"
```

``erase`` makes the patch release, turns every superseded release that held the record into a
tombstone (its data files removed) and erases the record from the project's runs, audit
outputs, samples and caches. ``patch`` makes the patch release only. Kinds not named keep the
defaults above (the GDPR's right to erasure for personal data; a legal order for legal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasteward.recipe._where import Where

TAKEDOWN_CATEGORIES = ("privacy", "legal", "copyright", "harmful", "other")
TAKEDOWN_ACTIONS = ("erase", "patch")
DEFAULT_TAKEDOWN_POLICY: Mapping[str, str] = {
    "privacy": "erase",
    "legal": "erase",
    "copyright": "patch",
    "harmful": "patch",
    "other": "patch",
}


@dataclass(frozen=True, kw_only=True)
class TakedownTable:
    """``[takedown]``: ``policy`` maps each request kind to ``erase`` or ``patch``."""

    policy: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TAKEDOWN_POLICY))
    #: The kinds the recipe set itself (the others are defaults).
    configured: tuple[str, ...] = ()

    def action(self, category: str) -> str:
        return self.policy.get(category, DEFAULT_TAKEDOWN_POLICY.get(category, "patch"))

    def source(self, category: str) -> str:
        """Where the action of ``category`` comes from, as recorded in the ledger."""
        if category in self.configured:
            return f"recipe [takedown.policy] {category} = {self.action(category)!r}"
        return f"default policy: {category} = {self.action(category)!r}"


def parse_takedown(w: Where, raw: Any) -> TakedownTable:
    if raw is None:
        return TakedownTable()
    if not isinstance(raw, dict):
        raise w.err("`takedown` must be a table ([takedown])", key="takedown")
    for key in raw:
        if key != "policy":
            raise w.err(
                f"unknown key `{key}` in [takedown]",
                table="takedown",
                key=key,
                hint="[takedown] has one table: [takedown.policy]",
            )
    given = raw.get("policy", {})
    if not isinstance(given, dict):
        raise w.err("`policy` must be a table ([takedown.policy])", table="takedown")
    policy = dict(DEFAULT_TAKEDOWN_POLICY)
    for kind, action in given.items():
        if kind not in TAKEDOWN_CATEGORIES:
            raise w.err(
                f"unknown takedown kind `{kind}` in [takedown.policy]",
                table="takedown.policy",
                key=kind,
                hint="kinds: " + ", ".join(TAKEDOWN_CATEGORIES),
            )
        if action not in TAKEDOWN_ACTIONS:
            raise w.err(
                f"[takedown.policy] {kind} = {action!r}: the action must be erase or patch",
                table="takedown.policy",
                key=kind,
                hint='e.g. copyright = "erase" to withdraw earlier releases too',
            )
        policy[kind] = action
    return TakedownTable(policy=policy, configured=tuple(sorted(given)))


def takedown_table(raw: Any, *, path: Path) -> TakedownTable:
    """``[takedown]`` given as the parsed TOML of the recipe at ``path`` (errors name it)."""
    return parse_takedown(Where(path, ""), raw)
