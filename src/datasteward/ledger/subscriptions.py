"""Addresses that asked to be told when a release is corrected (the site's "notify me of
corrections" on a release page), confirmed by an e-mailed link (double opt-in).

Open releases are downloaded without anyone saying who they are, so the site cannot know whom
to tell when a takedown's patch release supersedes a version; a person who wants to know
leaves an address here. Not chained: an address is personal data its owner can take back at
any time (unsubscribing deletes the row), and nothing a steward decided depends on it. The
e-mails sent to these addresses are chained (``takedown.notice``), like every notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from datasteward.ledger.chain import format_ts
from datasteward.ledger.tables import correction_subscriptions as subs

if TYPE_CHECKING:
    from datasteward.ledger._core import Transactions


@dataclass(frozen=True)
class Subscription:
    subscription_id: int
    version: str
    email: str
    #: ``unconfirmed`` until the e-mailed link is followed, then ``confirmed``.
    status: str
    created_at: str
    confirmed_at: str | None


def _sub(row: Any) -> Subscription:
    return Subscription(**{k: row[k] for k in Subscription.__dataclass_fields__})  # noqa: SIM118


class SubscriptionRecords:
    """Methods of :class:`~datasteward.ledger.Ledger`."""

    def subscribe(self: Transactions, *, version: str, email: str, token_sha256: str) -> int:
        """Record an unconfirmed subscription; returns its id."""
        now = format_ts(datetime.now(UTC))
        with self._tx("record a subscription", write=True) as conn:
            result = conn.execute(
                insert(subs).values(
                    version=version,
                    email=email,
                    status="unconfirmed",
                    token_sha256=token_sha256,
                    created_at=now,
                    confirmed_at=None,
                )  # fmt: skip
            )
            key = result.inserted_primary_key
        return int(key[0]) if key else 0

    def confirm_subscription(self: Transactions, token_sha256: str) -> Subscription | None:
        """Confirm (idempotent); None if there is no such subscription (any more)."""
        now = format_ts(datetime.now(UTC))
        with self._tx("confirm a subscription", write=True) as conn:
            conn.execute(
                update(subs)
                .where(subs.c.token_sha256 == token_sha256, subs.c.status == "unconfirmed")
                .values(status="confirmed", confirmed_at=now)
            )
            row = conn.execute(select(subs).where(subs.c.token_sha256 == token_sha256))
            found = row.mappings().first()
        return None if found is None else _sub(found)

    def subscription_by_token(self: Transactions, token_sha256: str) -> Subscription | None:
        with self._tx("read a subscription") as conn:
            row = conn.execute(select(subs).where(subs.c.token_sha256 == token_sha256))
            found = row.mappings().first()
        return None if found is None else _sub(found)

    def unsubscribe(self: Transactions, token_sha256: str) -> bool:
        """Delete the subscription (the address goes with it); False if there was none."""
        with self._tx("delete a subscription", write=True) as conn:
            gone = conn.execute(delete(subs).where(subs.c.token_sha256 == token_sha256))
        return bool(gone.rowcount)

    def forget_subscribers(self: Transactions, version: str) -> int:
        """Delete every subscription to ``version`` (once its correction has been told, the
        addresses have served their purpose); returns how many."""
        with self._tx("delete subscriptions", write=True) as conn:
            gone = conn.execute(delete(subs).where(subs.c.version == version))
        return int(gone.rowcount or 0)

    def subscriber_emails(self: Transactions, version: str) -> list[str]:
        """The confirmed addresses that asked to hear about corrections of ``version``."""
        query = (
            select(subs.c.email)
            .where(subs.c.version == version, subs.c.status == "confirmed")
            .distinct()
        )
        with self._tx("read subscriptions") as conn:
            return sorted({str(r[0]) for r in conn.execute(query)})
