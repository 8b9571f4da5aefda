"""The event chain: canonical serialisation, hashing and appending.

Each event is the tuple (seq, type, at, payload, prev_hash). Its hash is::

    sha256(canonical_json({"at": at, "payload": payload, "prev_hash": prev_hash,
                           "seq": seq, "type": type}))

where ``canonical_json`` is JSON with sorted keys, no whitespace, UTF-8 (not ASCII-escaped)
and no NaN/Infinity. The payload names every row the event wrote with its full content, so
that ``verify`` can replay the log and compare it with the tables.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from datasteward.errors import LedgerError
from datasteward.ledger.tables import GENESIS_HASH, chain_head, events


def canonical_json(value: Any) -> str:
    """JSON that is byte-identical for equal values: sorted keys, compact, no NaN."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except ValueError as exc:
        raise LedgerError(
            f"cannot store a non-finite number in the ledger ({exc})",
            hint="replace NaN/Infinity by null or a finite value",
        ) from None
    except TypeError as exc:
        raise LedgerError(
            f"cannot store this value in the ledger: {exc}",
            hint="ledger values must be JSON: str, int, float, bool, None, lists and dicts",
        ) from None


def event_hash(*, seq: int, type: str, at: str, payload: Any, prev_hash: str) -> str:
    material = canonical_json(
        {"at": at, "payload": payload, "prev_hash": prev_hash, "seq": seq, "type": type}
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def utc_now() -> str:
    """Now, as the ISO-8601 UTC text the ledger stores (microseconds, ``Z``)."""
    return format_ts(datetime.now(UTC))


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def check_finite(value: Any, *, what: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise LedgerError(f"{what} is {value}; the ledger stores finite numbers only")


def lock_head(conn: Connection) -> tuple[int, str]:
    """Lock the chain head for this transaction and return (last seq, last hash).

    On PostgreSQL ``SELECT ... FOR UPDATE`` makes concurrent appenders queue here; on SQLite
    the transaction already holds the write lock (``BEGIN IMMEDIATE``).
    """
    row = conn.execute(
        select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1).with_for_update()
    ).first()
    if row is None:
        raise LedgerError(
            "the ledger's chain head row is missing",
            hint="the ledger was modified outside datasteward; run `datasteward log verify`",
        )
    return int(row.seq), str(row.hash)


def append_event(conn: Connection, *, type: str, payload: dict[str, Any], at: str) -> int:
    """Append one event after the locked head, advance the head; returns the event's seq."""
    seq, prev = lock_head(conn)
    seq += 1
    digest = event_hash(seq=seq, type=type, at=at, payload=payload, prev_hash=prev)
    conn.execute(
        insert(events).values(
            seq=seq,
            type=type,
            at=at,
            payload=canonical_json(payload),
            prev_hash=prev,
            hash=digest,
        )
    )
    conn.execute(update(chain_head).where(chain_head.c.id == 1).values(seq=seq, hash=digest))
    return seq


__all__ = [
    "GENESIS_HASH",
    "append_event",
    "canonical_json",
    "event_hash",
    "format_ts",
    "lock_head",
    "parse_ts",
    "utc_now",
]
