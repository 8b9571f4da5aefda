"""A steward's decision on a takedown request, and its execution.

``approve`` records the decision and turns the request into a ledger takedown request (the one
``datasteward takedown`` shows); ``execute`` (run by a background job) applies exactly that
takedown through the library (``release.build.takedown.apply``): the patch releases, the
statuses of the releases they supersede, the suppression list. ``decline`` records the reason.
Nothing is removed without ``approve``; a second steward acting on the same request is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datasteward.errors import TakedownRequestError
from datasteward.ledger import Ledger
from datasteward.ledger.chain import utc_now
from datasteward.requests.intake import CATEGORIES, KINDS, forget_value, request_value

#: Statuses a steward can decide from.
DECIDABLE = ("received", "matched", "failed")
#: progress(done, total, message)
Progress = Callable[[int, int, str], None]


def approve(project: Path, request_id: int, *, by: str) -> int:
    """Record the approval and the ledger takedown request; returns the takedown id."""
    with Ledger.open(project) as ledger:
        row = _row(ledger, request_id)
        if row["status"] == "failed" and row["takedown_id"] is not None:
            ledger.update_web_request(
                request_id, {"status": "approved", "decided_by": by}, expect=("failed",)
            )
            return int(row["takedown_id"])
        if row["status"] not in DECIDABLE:
            raise TakedownRequestError(
                f"takedown request #{request_id} is {row['status']}: it cannot be approved",
                hint="only a confirmed request that is not decided yet can be",
            )
        value = request_value(project, row)
        if value is None:
            raise TakedownRequestError(
                f"takedown request #{request_id}: its value is gone (erased or lost)",
                hint="ask the requester to file it again",
            )
        ledger.update_web_request(
            request_id,
            {"status": "approved", "decided_by": by, "decided_at": utc_now()},
            expect=DECIDABLE,
        )
    from datasteward.release.build.takedown import add_request

    tid = add_request(
        project,
        kind=KINDS[row["kind"]],
        value=value,
        requester=row["email"],
        reason=f"{CATEGORIES.get(row['category'], row['category'])} (web request "
        f"#{request_id}, approved by {by}): {row['explanation']}",
        category=row["category"],
    )
    with Ledger.open(project) as ledger:
        ledger.update_web_request(request_id, {"takedown_id": tid}, expect=("approved",))
    return tid


def decline(project: Path, request_id: int, *, by: str, reason: str) -> dict[str, Any]:
    """Record that stewards declined the request, with the reason the requester will read."""
    if not reason.strip():
        raise TakedownRequestError(
            f"declining takedown request #{request_id} needs a reason",
            hint="the requester reads it on their status page",
        )
    forget_value(project, request_id)
    with Ledger.open(project) as ledger:
        return ledger.update_web_request(
            request_id,
            {
                "status": "declined",
                "decided_by": by,
                "decided_at": utc_now(),
                "decision_reason": reason.strip(),
            },
            expect=DECIDABLE,
        )


def execute(project: Path, request_id: int, *, progress: Progress | None = None) -> dict[str, Any]:
    """Apply the approved request's takedown through ``erasure.apply.apply_takedowns`` (what
    ``datasteward takedown apply`` runs: patch releases, and for an erasing category the
    withdrawal and erasure); returns its result (the patch releases, the records removed).

    Safe to run again after a crash: the takedown finishes what an interrupted one started."""
    from datasteward.erasure.apply import apply_takedowns

    report = progress or (lambda done, total, message: None)
    with Ledger.open(project) as ledger:
        row = _row(ledger, request_id)
        if row["status"] == "executed":
            return dict(json.loads(row["result"] or "{}"))
        if row["takedown_id"] is None:
            raise TakedownRequestError(f"takedown request #{request_id} was not approved")
        ledger.update_web_request(
            request_id, {"status": "executing"}, expect=("approved", "executing")
        )
    tid = int(row["takedown_id"])
    report(0, 3, "matching the records in every release")

    def stage(name: str, done: int, total: int) -> None:
        report(1, 3, f"{_STAGES.get(name, name)} ({done}/{total})")

    try:
        done = _already_executed(project, tid)
        if done is None:
            outcome = apply_takedowns(project, ids=[tid], progress=stage)
            result = outcome.applied
            patches = dict(result.patches) if result else {}
            removed = {
                where: n
                for where, n in (result.matches.by_request().get(tid, {}) if result else {}).items()
                if not where.startswith("run:")
            }
            erased = outcome.erased.get(tid)
        else:
            patches, removed, erased = done, {}, None
    except Exception as exc:
        with Ledger.open(project) as ledger:
            ledger.update_web_request(
                request_id,
                {"status": "failed", "result": json.dumps({"error": str(exc)})},
                expect=("executing",),
            )
        raise
    report(2, 3, "patch releases written")
    summary: dict[str, Any] = {"patches": patches, "removed": removed}
    if erased is not None:
        summary["erased"] = {"rows": erased.rows_erased, "withdrawn": sorted(erased.withdrawn)}
    forget_value(project, request_id)
    with Ledger.open(project) as ledger:
        ledger.update_web_request(
            request_id,
            {"status": "executed", "result": json.dumps(summary, sort_keys=True)},
            expect=("executing",),
        )
    report(3, 3, "done")
    return summary


_STAGES = {
    "find": "finding the records to erase",
    "withdraw": "withdrawing superseded releases",
    "erase": "erasing the records from the project's files",
    "scan": "checking nothing is left",
}


def _already_executed(project: Path, takedown_id: int) -> dict[str, str] | None:
    """The patches of a ledger takedown already executed (a job that stopped after ``apply``)."""
    with Ledger.open(project) as ledger:
        for t in ledger.list_takedowns():
            if t.takedown_id == takedown_id and "executed" in t.stages:
                detail = json.loads(t.stages["executed"][1])
                return dict(detail.get("patches", {}))
    return None


def _row(ledger: Ledger, request_id: int) -> dict[str, Any]:
    row = ledger.web_request(request_id)
    if row is None:
        raise TakedownRequestError(f"no takedown request #{request_id} in the ledger")
    return row
