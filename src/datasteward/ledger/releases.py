"""The ledger's methods for releases, takedown requests (by stage) and deprecations.

``ReleaseRecords`` is mixed into :class:`~datasteward.ledger.Ledger`, so these are called as
``ledger.record_release(...)``, like the ledger's other methods. Each write is one
transaction that appends a chained event, like the rest of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from datasteward.errors import LedgerError
from datasteward.ledger._validate import as_json
from datasteward.ledger.tables import deprecations, releases, takedown_stages, takedowns

if TYPE_CHECKING:
    from datasteward.ledger._core import Transactions

TAKEDOWN_KINDS = ("url", "domain", "sha256", "id", "text")
TAKEDOWN_STAGES = ("received", "matched", "executed", "notified")


@dataclass(frozen=True)
class TakedownInfo:
    takedown_id: int
    kind: str
    value: str
    requester: str
    reason: str
    status: str
    received_at: str
    stages: dict[str, tuple[str, str]]  # stage -> (at, detail json)


class ReleaseRecords:
    """Releases, takedown requests and deprecations in the ledger (methods of ``Ledger``)."""

    def record_release(self: Transactions, row: dict[str, Any]) -> None:
        values = dict(row)
        values["draft"] = int(bool(values.get("draft", False)))
        with self._write("record a release") as (changes, now):
            if _release_row(changes.conn, values["version"]) is not None:
                raise LedgerError(
                    f"release {values['version']!r} is already in the ledger",
                    hint="releases are immutable; choose a new version",
                )
            values.setdefault("created_at", now)
            changes.put(releases, values)
            changes.commit_event("release.created", at=now)

    def list_releases(self: Transactions) -> list[dict[str, Any]]:
        with self._tx("list releases") as conn:
            return [dict(r) for r in conn.execute(select(releases)).mappings()]

    def add_takedown(
        self: Transactions, *, kind: str, value: str, requester: str, reason: str
    ) -> int:
        """Record a received takedown request; returns its id."""
        if kind not in TAKEDOWN_KINDS:
            raise LedgerError(
                f"unknown takedown kind {kind!r}", hint="one of " + ", ".join(TAKEDOWN_KINDS)
            )
        for name, v in (("value", value), ("requester", requester), ("reason", reason)):
            if not isinstance(v, str) or not v.strip():
                raise LedgerError(
                    f"a takedown request needs a non-empty {name}",
                    hint="say what to remove, who asked, and why",
                )
        with self._write("record a takedown request") as (changes, now):
            row = changes.put(
                takedowns,
                {
                    "kind": kind,
                    "value": value.strip(),
                    "requester": requester.strip(),
                    "reason": reason.strip(),
                    "status": "received",
                    "received_at": now,
                },
            )
            tid = int(row["takedown_id"])
            changes.put(
                takedown_stages,
                {
                    "takedown_id": tid,
                    "stage": "received",
                    "at": now,
                    "detail": as_json({}, what="detail"),
                },
            )
            changes.commit_event("takedown.received", at=now)
        return tid

    def takedown_stage(
        self: Transactions, takedown_id: int, stage: str, detail: dict[str, Any]
    ) -> str:
        """Record that a request reached ``stage``; returns the timestamp."""
        if stage not in TAKEDOWN_STAGES:
            raise LedgerError(f"unknown takedown stage {stage!r}")
        payload = as_json(detail, what=f"takedown {takedown_id} {stage}")
        with self._write(f"record takedown stage {stage}") as (changes, now):
            found = changes.conn.execute(
                select(takedowns.c.takedown_id).where(takedowns.c.takedown_id == takedown_id)
            ).first()
            if found is None:
                raise LedgerError(f"no takedown request #{takedown_id} in the ledger")
            changes.delete_where(takedown_stages, {"takedown_id": takedown_id, "stage": stage})
            changes.put(
                takedown_stages,
                {"takedown_id": takedown_id, "stage": stage, "at": now, "detail": payload},
            )
            changes.change(takedowns, {"takedown_id": takedown_id}, {"status": stage})
            changes.commit_event(f"takedown.{stage}", at=now)
        return now

    def list_takedowns(self: Transactions, *, status: str | None = None) -> list[TakedownInfo]:
        with self._tx("list takedown requests") as conn:
            query = select(takedowns).order_by(takedowns.c.takedown_id)
            if status is not None:
                query = query.where(takedowns.c.status == status)
            rows = [dict(r) for r in conn.execute(query).mappings()]
            stages: dict[int, dict[str, tuple[str, str]]] = {}
            for s in conn.execute(select(takedown_stages)).mappings():
                stages.setdefault(int(s["takedown_id"]), {})[s["stage"]] = (s["at"], s["detail"])
        return [
            TakedownInfo(
                takedown_id=int(r["takedown_id"]),
                kind=r["kind"],
                value=r["value"],
                requester=r["requester"],
                reason=r["reason"],
                status=r["status"],
                received_at=r["received_at"],
                stages=stages.get(int(r["takedown_id"]), {}),
            )
            for r in rows
        ]

    def record_deprecation(self: Transactions, row: dict[str, Any]) -> str:
        with self._write("record a deprecation") as (changes, now):
            existing = changes.conn.execute(
                select(deprecations.c.version).where(deprecations.c.version == row["version"])
            ).first()
            values = {**row, "deprecated_at": now}
            if existing is not None:
                changes.change(deprecations, {"version": row["version"]}, values)
            else:
                changes.put(deprecations, values)
            changes.commit_event("release.deprecated", at=now)
        return now


def _release_row(conn: Connection, version: str) -> dict[str, Any] | None:
    row = conn.execute(select(releases).where(releases.c.version == version)).mappings().first()
    return dict(row) if row is not None else None
