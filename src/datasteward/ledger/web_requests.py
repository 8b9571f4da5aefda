"""Ledger writes and reads for takedown requests filed on the website, and the notices sent.

A request filed through the public form is a ``takedown_requests`` row from the first
submission (status ``unconfirmed``) through the requester's e-mail confirmation (``received``),
the match preview (``matched``), a steward's decision (``approved`` → ``executing`` →
``executed``, or ``declined``; ``failed`` when the job stopped) to the notice (``notified_at``).
Every change is one chained event (``takedown_request.<status>``), like the rest of the ledger.

``WebRequestRecords`` is mixed into :class:`~datasteward.ledger.Ledger`, so these are called as
``ledger.file_web_request(...)``, like the ledger's other methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from datasteward.errors import LedgerError
from datasteward.ledger.tables import (
    access_requests,
    downloads,
    review_samples,
    reviews,
    takedown_notices,
    takedown_requests,
)

if TYPE_CHECKING:
    from datasteward.ledger._core import Transactions

WEB_REQUEST_STATUSES = (
    "unconfirmed",
    "received",
    "matched",
    "approved",
    "executing",
    "executed",
    "declined",
    "failed",
)
#: Columns a status change may set (the request's own fields never change once filed).
_MUTABLE = {
    "status",
    "confirmed_at",
    "match",
    "takedown_id",
    "decided_by",
    "decided_at",
    "decision_reason",
    "result",
    "notified_at",
}


class WebRequestRecords:
    """Web takedown requests and notices in the ledger (methods of ``Ledger``)."""

    def file_web_request(self: Transactions, values: Mapping[str, Any]) -> int:
        """Record a request as filed (status ``unconfirmed``); returns its id."""
        row = dict(values)
        for name in ("kind", "value", "category", "explanation", "email", "status_token_sha256"):
            if not isinstance(row.get(name), str) or not str(row[name]).strip():
                raise LedgerError(f"a takedown request needs a non-empty {name}")
        with self._write("record a takedown request") as (changes, now):
            stored = changes.put(
                takedown_requests, {**row, "status": "unconfirmed", "created_at": now}
            )
            changes.commit_event("takedown_request.filed", at=now)
        return int(stored["request_id"])

    def update_web_request(
        self: Transactions, request_id: int, values: Mapping[str, Any], *, expect: tuple[str, ...]
    ) -> dict[str, Any]:
        """Change a request whose status is one of ``expect`` (else a ``LedgerError`` naming
        the status it has: two stewards deciding at once, a link used twice); returns the row."""
        bad = set(values) - _MUTABLE
        if bad:
            raise LedgerError(f"cannot change {', '.join(sorted(bad))} of a takedown request")
        status = values.get("status")
        if status is not None and status not in WEB_REQUEST_STATUSES:
            raise LedgerError(f"unknown takedown request status {status!r}")
        with self._write("update a takedown request") as (changes, now):
            current = changes.conn.execute(
                select(takedown_requests.c.status).where(
                    takedown_requests.c.request_id == request_id
                )
            ).first()
            if current is None:
                raise LedgerError(f"no takedown request #{request_id} in the ledger")
            if current.status not in expect:
                raise LedgerError(
                    f"takedown request #{request_id} is {current.status}, not "
                    + " or ".join(expect),
                    hint="reload the page: someone may have acted on it already",
                )
            row = changes.change(takedown_requests, {"request_id": request_id}, dict(values))
            changes.commit_event(f"takedown_request.{status or current.status}", at=now)
        return row

    def web_request(self: Transactions, request_id: int) -> dict[str, Any] | None:
        query = select(takedown_requests).where(takedown_requests.c.request_id == request_id)
        with self._tx("read a takedown request") as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    def web_request_by_token(self: Transactions, token_sha256: str) -> dict[str, Any] | None:
        query = select(takedown_requests).where(
            takedown_requests.c.status_token_sha256 == token_sha256
        )
        with self._tx("read a takedown request") as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    def list_web_requests(self: Transactions, *, status: str | None = None) -> list[dict[str, Any]]:
        query = select(takedown_requests).order_by(takedown_requests.c.request_id.desc())
        if status is not None:
            query = query.where(takedown_requests.c.status == status)
        with self._tx("list takedown requests") as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def record_notice(
        self: Transactions,
        *,
        email: str,
        kind: str,
        subject: str,
        request_id: int | None = None,
        version: str | None = None,
        error: str | None = None,
    ) -> int:
        """Record an e-mail sent (or, with ``error``, that could not be sent)."""
        with self._write("record a notice") as (changes, now):
            row = changes.put(
                takedown_notices,
                {
                    "request_id": request_id,
                    "version": version,
                    "email": email,
                    "kind": kind,
                    "subject": subject,
                    "sent_at": now,
                    "error": error,
                },
            )
            changes.commit_event("takedown.notice", at=now)
        return int(row["notice_id"])

    def list_notices(self: Transactions, *, request_id: int | None = None) -> list[dict[str, Any]]:
        query = select(takedown_notices).order_by(takedown_notices.c.notice_id)
        if request_id is not None:
            query = query.where(takedown_notices.c.request_id == request_id)
        with self._tx("list notices") as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def sample_judgements(self: Transactions, sample_id: int) -> list[dict[str, Any]]:
        """Every judgement of a sample, oldest first (all reviewers; the history too)."""
        query = (
            select(reviews).where(reviews.c.sample_id == sample_id).order_by(reviews.c.review_id)
        )
        with self._tx("read judgements") as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def downloader_emails(self: Transactions, version: str) -> list[str]:
        """The e-mail addresses of everyone who downloaded ``version`` through the site."""
        query = (
            select(access_requests.c.email)
            .join(downloads, downloads.c.request_id == access_requests.c.request_id)
            .where(downloads.c.version == version)
            .distinct()
        )
        with self._tx("read downloads") as conn:
            return sorted({str(r[0]) for r in conn.execute(query)})

    def list_samples(self: Transactions) -> list[dict[str, Any]]:
        """Every review sample, oldest first."""
        query = select(review_samples).order_by(review_samples.c.sample_id)
        with self._tx("list review samples") as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
