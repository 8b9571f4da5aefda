"""What changed in the recipe since the last succeeded run, and whether a decision explains it.

Sources and stewards are matched by name, steps by their order and ``use`` (so inserting a
step reads as "step added", not as every later step changing), and every other table key by
key. A change is explained by a decision recorded after the baseline run started, for this
recipe (same hash) or for no recipe in particular (no hash).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datasteward.errors import LedgerError
from datasteward.ledger.infos import DecisionInfo, RunInfo

if TYPE_CHECKING:
    from datasteward.ledger.store import Ledger


@dataclass(frozen=True)
class RecipeChange:
    """One difference between the baseline recipe and the current one."""

    kind: str  # "added" | "removed" | "changed"
    section: str  # "sources" | "steps" | "stewards" | "dataset" | "policy" | ...
    path: str  # e.g. "steps[2] filter.length.min_words" or "sources[news].path"
    before: Any
    after: Any
    baseline_run: str
    explained_by: DecisionInfo | None = None

    @property
    def explained(self) -> bool:
        return self.explained_by is not None

    @property
    def text(self) -> str:
        """One readable line: ``option steps[2] filter.length.min_words changed 50 → 100``."""
        if self.kind == "changed":
            return f"{self.path} changed {_show(self.before)} → {_show(self.after)}"
        value = self.after if self.kind == "added" else self.before
        return f"{self.path} {self.kind}" + (f": {_show(value)}" if value is not None else "")

    @property
    def description(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "section": self.section,
            "path": self.path,
            "before": self.before,
            "after": self.after,
            "text": self.text,
            "baseline_run": self.baseline_run,
            "explained": self.explained,
            "explained_by": self.explained_by.as_dict() if self.explained_by else None,
        }


def recipe_changes(ledger: Ledger, recipe_canonical: str, recipe_hash: str) -> list[RecipeChange]:
    """Changes of this recipe against the latest succeeded run's; [] when there is none."""
    baseline = ledger.latest_run(status="succeeded")
    if baseline is None:
        return []
    return changes_since(ledger, baseline, recipe_canonical, recipe_hash)


def changes_since(
    ledger: Ledger, baseline: RunInfo, recipe_canonical: str, recipe_hash: str
) -> list[RecipeChange]:
    """Changes of a recipe against the one ``baseline`` ran with, each with the decision that
    explains it (the latest recorded after the baseline started, for this recipe or for none);
    [] when the recipes are the same. A release compares its run with its parent's this way."""
    if baseline.recipe_hash == recipe_hash:
        return []
    diffs = diff_recipes(
        _load(baseline.recipe_canonical, f"the recipe of run {baseline.run_id}"),
        _load(recipe_canonical, "the current recipe"),
    )
    decision = _explaining_decision(ledger, baseline, recipe_hash)
    return [
        RecipeChange(
            kind=kind,
            section=section,
            path=path,
            before=before,
            after=after,
            baseline_run=baseline.run_id,
            explained_by=decision,
        )
        for kind, section, path, before, after in diffs
    ]


def _explaining_decision(
    ledger: Ledger, baseline: RunInfo, recipe_hash: str
) -> DecisionInfo | None:
    matching = [
        d
        for d in ledger.list_decisions()
        if d.decided_at > baseline.started_at and d.recipe_hash in (None, recipe_hash)
    ]
    return matching[-1] if matching else None


def _load(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise LedgerError(f"{what} is not canonical JSON ({exc})") from None
    if not isinstance(value, dict):
        raise LedgerError(f"{what} is not a JSON object")
    return value


_Diff = tuple[str, str, str, Any, Any]


def diff_recipes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[_Diff]:
    """(kind, section, path, before, after) for every difference, in recipe order."""
    out: list[_Diff] = []
    for section in _ordered_keys(old, new):
        a, b = old.get(section), new.get(section)
        if a == b:
            continue
        if section in ("sources", "stewards") and _named_list(a) and _named_list(b):
            out += _diff_named(section, a or [], b or [])
        elif section == "steps" and _dict_list(a) and _dict_list(b):
            out += _diff_steps(a or [], b or [])
        else:
            out += _diff_values(section, section, a, b)
    return out


def _ordered_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    order = ["dataset", "stewards", "sources", "steps", "policy", "run", "release"]
    rest = sorted((set(old) | set(new)) - set(order))
    return [k for k in order + rest if k in old or k in new]


def _dict_list(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _named_list(value: Any) -> bool:
    return _dict_list(value) and all("name" in v for v in value or [])


def _diff_named(section: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[_Diff]:
    a = {v["name"]: v for v in old}
    b = {v["name"]: v for v in new}
    out: list[_Diff] = []
    for name in [n for n in a if n not in b]:
        out.append(("removed", section, f"{section}[{name}]", a[name], None))
    for name in b:
        if name not in a:
            out.append(("added", section, f"{section}[{name}]", None, b[name]))
        elif a[name] != b[name]:
            out += _diff_values(section, f"{section}[{name}]", a[name], b[name])
    return out


def _diff_steps(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[_Diff]:
    def label(index: int, step: dict[str, Any]) -> str:
        return f"steps[{index + 1}] {step.get('use', '?')}"

    matcher = difflib.SequenceMatcher(
        a=[str(s.get("use")) for s in old], b=[str(s.get("use")) for s in new], autojunk=False
    )
    out: list[_Diff] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                if old[i] != new[j]:
                    out += _diff_values("steps", label(j, new[j]), old[i], new[j])
            continue
        for i in range(i1, i2):
            out.append(("removed", "steps", label(i, old[i]), old[i], None))
        for j in range(j1, j2):
            out.append(("added", "steps", label(j, new[j]), None, new[j]))
    return out


def _diff_values(section: str, path: str, a: Any, b: Any) -> list[_Diff]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[_Diff] = []
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{key}"
            if key not in b:
                out.append(("removed", section, sub, a[key], None))
            elif key not in a:
                out.append(("added", section, sub, None, b[key]))
            elif a[key] != b[key]:
                out += _diff_values(section, sub, a[key], b[key])
        return out
    if a is None:
        return [("added", section, path, None, b)]
    if b is None:
        return [("removed", section, path, a, None)]
    return [("changed", section, path, a, b)]


def _show(value: Any, width: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
