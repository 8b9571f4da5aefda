"""The ledger's record of takedown policies and erasures (issue 19).

``ErasureRecords`` is mixed into :class:`~datasteward.ledger.Ledger` (each write is one
transaction appending one chained event, like the ledger's other methods): the kind and policy
of a takedown request with its hashed fingerprint, and one row per file an erasure rewrote,
deleted or withdrew. Nothing here holds a record's text or URL: only sha256 hashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from datasteward.errors import LedgerError
from datasteward.ledger._validate import as_json
from datasteward.ledger.tables import takedown_erasures, takedown_policies

if TYPE_CHECKING:
    from datasteward.ledger._core import Transactions

CATEGORIES = ("privacy", "legal", "copyright", "harmful", "other")
ACTIONS = ("erase", "patch")
ERASURE_ACTIONS = ("rewritten", "deleted", "withdrawn")


@dataclass(frozen=True)
class PolicyInfo:
    takedown_id: int
    category: str
    action: str
    policy_source: str
    value_sha256: str
    probe: dict[str, Any] | None
    decided_at: str


@dataclass(frozen=True)
class ErasureInfo:
    takedown_id: int
    place: str
    action: str
    rows_erased: int
    sha256_before: str | None
    sha256_after: str | None
    at: str


class ErasureRecords:
    """Takedown policies and erasures in the ledger (methods of ``Ledger``)."""

    def record_takedown_policy(
        self: Transactions,
        takedown_id: int,
        *,
        category: str,
        action: str,
        policy_source: str,
        value_sha256: str,
        probe: dict[str, Any] | None = None,
    ) -> None:
        """Record (or update, e.g. to add the fingerprint) a request's kind and policy action."""
        if category not in CATEGORIES:
            raise LedgerError(
                f"unknown takedown kind {category!r}", hint="one of " + ", ".join(CATEGORIES)
            )
        if action not in ACTIONS:
            raise LedgerError(f"unknown takedown action {action!r}", hint="erase or patch")
        values = {
            "category": category,
            "action": action,
            "policy_source": policy_source,
            "value_sha256": value_sha256,
            "probe": as_json(probe, what="takedown probe") if probe is not None else None,
        }
        with self._write(f"record the policy of takedown #{takedown_id}") as (changes, now):
            found = changes.conn.execute(
                select(takedown_policies.c.takedown_id).where(
                    takedown_policies.c.takedown_id == takedown_id
                )
            ).first()
            if found is None:
                changes.put(
                    takedown_policies, {"takedown_id": takedown_id, "decided_at": now, **values}
                )
            else:
                changes.change(takedown_policies, {"takedown_id": takedown_id}, values)
            changes.commit_event("takedown.policy", at=now)

    def takedown_policy(self: Transactions, takedown_id: int) -> PolicyInfo | None:
        with self._tx("read a takedown policy") as conn:
            row = (
                conn.execute(
                    select(takedown_policies).where(takedown_policies.c.takedown_id == takedown_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return PolicyInfo(
            takedown_id=int(row["takedown_id"]),
            category=row["category"],
            action=row["action"],
            policy_source=row["policy_source"],
            value_sha256=row["value_sha256"],
            probe=json.loads(row["probe"]) if row["probe"] else None,
            decided_at=row["decided_at"],
        )

    def record_takedown_erasure(
        self: Transactions,
        takedown_id: int,
        *,
        place: str,
        action: str,
        rows_erased: int,
        sha256_before: str | None,
        sha256_after: str | None,
    ) -> None:
        """Record that an erasure rewrote, deleted or withdrew one file (or folder)."""
        if action not in ERASURE_ACTIONS:
            raise LedgerError(f"unknown erasure action {action!r}")
        with self._write(f"record an erasure of takedown #{takedown_id}") as (changes, now):
            changes.put(
                takedown_erasures,
                {
                    "takedown_id": takedown_id,
                    "place": place,
                    "action": action,
                    "rows_erased": int(rows_erased),
                    "sha256_before": sha256_before,
                    "sha256_after": sha256_after,
                    "at": now,
                },
            )
            changes.commit_event("takedown.erased", at=now)

    def takedown_erasures(self: Transactions, takedown_id: int | None = None) -> list[ErasureInfo]:
        with self._tx("read takedown erasures") as conn:
            query = select(takedown_erasures).order_by(takedown_erasures.c.erasure_id)
            if takedown_id is not None:
                query = query.where(takedown_erasures.c.takedown_id == takedown_id)
            rows = list(conn.execute(query).mappings())
        return [
            ErasureInfo(
                takedown_id=int(r["takedown_id"]),
                place=r["place"],
                action=r["action"],
                rows_erased=int(r["rows_erased"]),
                sha256_before=r["sha256_before"],
                sha256_after=r["sha256_after"],
                at=r["at"],
            )
            for r in rows
        ]
