"""A steward's decision on a takedown request, and its execution.

``approve`` records the decision and turns the request into a ledger takedown request (the one
``datasteward takedown`` shows); ``execute`` (run by a background job) applies exactly that
takedown through the library (``release.build.takedown.apply``): the patch releases, the
statuses of the releases they supersede, the suppression list. ``decline`` records the reason.
Nothing is removed without ``approve``; a second steward acting on the same request is refused.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datasteward.errors import TakedownRequestError
from datasteward.ledger import Ledger
from datasteward.ledger.chain import utc_now
from datasteward.requests.intake import CATEGORIES, KINDS

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
        ledger.update_web_request(
            request_id,
            {"status": "approved", "decided_by": by, "decided_at": utc_now()},
            expect=DECIDABLE,
        )
        tid = ledger.add_takedown(
            kind=KINDS[row["kind"]],
            value=row["value"],
            requester=row["email"],
            reason=f"{CATEGORIES.get(row['category'], row['category'])} (web request "
            f"#{request_id}, approved by {by}): {row['explanation']}",
        )
        ledger.update_web_request(request_id, {"takedown_id": tid}, expect=("approved",))
    return tid


def decline(project: Path, request_id: int, *, by: str, reason: str) -> dict[str, Any]:
    """Record that stewards declined the request, with the reason the requester will read."""
    if not reason.strip():
        raise TakedownRequestError(
            f"declining takedown request #{request_id} needs a reason",
            hint="the requester reads it on their status page",
        )
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
    """Apply the approved request's takedown; returns its result (the patch releases).

    Safe to run again after a crash: ``apply`` finishes a half-done takedown."""
    from datasteward.release.build import takedown

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
    kwargs: dict[str, Any] = {"ids": [tid]}
    if "progress" in inspect.signature(takedown.apply).parameters:
        kwargs["progress"] = report  # the library reports its own steps
    try:
        done = _already_executed(project, tid)
        if done is None:
            result = takedown.apply(project, **kwargs)
            patches = dict(result.patches)
            removed = {
                where: n
                for where, n in result.matches.by_request().get(tid, {}).items()
                if not where.startswith("run:")
            }
        else:
            patches, removed = done, {}
    except Exception as exc:
        with Ledger.open(project) as ledger:
            ledger.update_web_request(
                request_id,
                {"status": "failed", "result": json.dumps({"error": str(exc)})},
                expect=("executing",),
            )
        raise
    report(2, 3, "patch releases written")
    outcome = {"patches": patches, "removed": removed}
    with Ledger.open(project) as ledger:
        ledger.update_web_request(
            request_id,
            {"status": "executed", "result": json.dumps(outcome, sort_keys=True)},
            expect=("executing",),
        )
    report(3, 3, "done")
    return outcome


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
