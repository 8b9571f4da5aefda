"""Ledger writes and reads for human review: samples, their items, and judgements.

A sample is recorded with all its items in one event (``review.sample``); each judgement is
its own event (``review.recorded``), appended, never updated, so the history of a record's
judgements is kept and chained like the rest of the ledger. A review queue (terminal today, a
web page later) is the sample's items, in order, without a judgement yet.

``ReviewRecords`` is mixed into :class:`~datasteward.ledger.Ledger`, so these are called as
``ledger.record_sample(...)``, like the ledger's other methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from datasteward.errors import LedgerError
from datasteward.ledger._validate import as_json
from datasteward.ledger.tables import review_items, review_samples, reviews

if TYPE_CHECKING:
    from datasteward.ledger._core import Transactions

VERDICTS = ("ok", "problem")


@dataclass(frozen=True)
class ReviewItem:
    sample_id: int
    position: int
    record_id: str
    stratum: str
    outcome: str
    step_id: str | None
    reason: str | None


@dataclass(frozen=True)
class Judgement:
    review_id: int
    sample_id: int
    position: int
    record_id: str
    verdict: str
    category: str | None
    note: str | None
    reviewer: str
    reviewed_at: str


class ReviewRecords:
    """Review samples, their items and judgements in the ledger (methods of ``Ledger``)."""

    def record_sample(
        self: Transactions,
        *,
        run_id: str,
        name: str,
        spec: Mapping[str, Any],
        items: Sequence[Mapping[str, Any]],
        created_by: str | None = None,
    ) -> int:
        """Record a drawn sample and its items (``record_id, stratum, outcome, step_id, reason``,
        in review order); returns the sample id."""
        if not items:
            raise LedgerError(
                "a review sample needs at least one record",
                hint="draw from a run and a stratum that has records",
            )
        payload = as_json(dict(spec), what="review sample spec")
        with self._write("record a review sample") as (changes, now):
            row = changes.put(
                review_samples,
                {
                    "run_id": run_id,
                    "name": name,
                    "spec": payload,
                    "items": len(items),
                    "created_by": created_by,
                    "created_at": now,
                },
            )
            sid = int(row["sample_id"])
            for i, it in enumerate(items):
                changes.put(
                    review_items,
                    {
                        "sample_id": sid,
                        "position": i,
                        "record_id": str(it["record_id"]),
                        "stratum": str(it["stratum"]),
                        "outcome": str(it["outcome"]),
                        "step_id": it.get("step_id"),
                        "reason": it.get("reason"),
                    },
                )
            changes.commit_event("review.sample", at=now)
        return sid

    def sample_info(self: Transactions, sample_id: int) -> dict[str, Any]:
        """The sample's row: run, name, spec, number of items, who drew it and when."""
        with self._tx("read a review sample") as conn:
            return _sample_row(conn, sample_id)

    def sample_items(
        self: Transactions, sample_id: int, *, pending_only: bool = False
    ) -> list[ReviewItem]:
        """The items of a sample in order; with ``pending_only``, those without a judgement."""
        query = select(review_items).where(review_items.c.sample_id == sample_id)
        if pending_only:
            judged = select(reviews.c.position).where(reviews.c.sample_id == sample_id)
            query = query.where(review_items.c.position.not_in(judged))
        with self._tx("read review items") as conn:
            _sample_row(conn, sample_id)
            rows = conn.execute(query.order_by(review_items.c.position)).mappings().all()
        return [ReviewItem(**dict(r)) for r in rows]

    def record_review(
        self: Transactions,
        *,
        sample_id: int,
        record_id: str,
        verdict: str,
        reviewer: str,
        category: str | None = None,
        note: str | None = None,
    ) -> Judgement:
        """Record one person's judgement of a sampled record."""
        if verdict not in VERDICTS:
            raise LedgerError(f"a judgement is one of {', '.join(VERDICTS)}, not {verdict!r}")
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise LedgerError("a judgement needs the reviewer's name", hint="pass --by NAME")
        if verdict == "problem" and not (category and category.strip()):
            raise LedgerError(
                f"record {record_id}: a problem needs a category",
                hint="e.g. wrongly-removed, offensive, pii, low-quality, not-english",
            )
        with self._write("record a judgement") as (changes, now):
            item = changes.conn.execute(
                select(review_items.c.position).where(
                    review_items.c.sample_id == sample_id, review_items.c.record_id == record_id
                )
            ).first()
            if item is None:
                raise LedgerError(
                    f"record {record_id!r} is not in review sample #{sample_id}",
                    hint="judge the records `datasteward sample` drew",
                )
            row = changes.put(
                reviews,
                {
                    "sample_id": sample_id,
                    "position": int(item.position),
                    "record_id": record_id,
                    "verdict": verdict,
                    "category": category.strip() if category else None,
                    "note": note.strip() if note and note.strip() else None,
                    "reviewer": reviewer.strip(),
                    "reviewed_at": now,
                },
            )
            changes.commit_event("review.recorded", at=now)
        return Judgement(**row)

    def latest_judgements(self: Transactions, *, run_id: str) -> list[dict[str, Any]]:
        """For every reviewed item of the run's samples: its stratum and latest judgement."""
        latest = (
            select(
                reviews.c.sample_id,
                reviews.c.position,
                func.max(reviews.c.review_id).label("review_id"),
            )
            .group_by(reviews.c.sample_id, reviews.c.position)
            .subquery()
        )
        query = (
            select(
                review_items.c.sample_id,
                review_items.c.record_id,
                review_items.c.stratum,
                review_items.c.outcome,
                review_items.c.step_id,
                review_items.c.reason,
                reviews.c.verdict,
                reviews.c.category,
                reviews.c.reviewer,
                reviews.c.reviewed_at,
            )
            .join(
                latest,
                (latest.c.sample_id == review_items.c.sample_id)
                & (latest.c.position == review_items.c.position),
            )
            .join(reviews, reviews.c.review_id == latest.c.review_id)
            .join(review_samples, review_samples.c.sample_id == review_items.c.sample_id)
            .where(review_samples.c.run_id == run_id)
            .order_by(review_items.c.sample_id, review_items.c.position)
        )
        with self._tx("read judgements") as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


def _sample_row(conn: Connection, sample_id: int) -> dict[str, Any]:
    query = select(review_samples).where(review_samples.c.sample_id == sample_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise LedgerError(
            f"no review sample #{sample_id} in the ledger",
            hint="`datasteward sample` draws one and prints its id",
        )
    return dict(row)
