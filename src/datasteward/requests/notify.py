"""The e-mails about a takedown request: the confirmation link, the outcome for the requester,
and the notice to everyone who downloaded a version that a patch release superseded.

Each message sent (or that could not be sent) is a ``takedown_notices`` row and an event.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datasteward.errors import TakedownRequestError
from datasteward.ledger import Ledger
from datasteward.ledger.chain import utc_now
from datasteward.requests.mail import Mailer

log = logging.getLogger(__name__)


def confirmation(
    *, dataset: str, request_id: int, confirm_url: str, status_url: str
) -> tuple[str, str]:
    subject = f"Confirm your takedown request #{request_id} for {dataset}"
    body = (
        f"Someone (we hope you) asked the stewards of {dataset} to take something down and gave\n"
        "this address. Nothing happens until you confirm. To confirm, open:\n\n"
        f"  {confirm_url}\n\n"
        "Follow your request (keep this link private; it is the only way in):\n\n"
        f"  {status_url}\n\n"
        "If this was not you, ignore this message.\n"
    )
    return subject, body


def outcome(*, dataset: str, row: dict[str, Any], status_url: str) -> tuple[str, str]:
    rid = row["request_id"]
    if row["status"] == "declined":
        subject = f"Your takedown request #{rid} for {dataset} was declined"
        body = (
            f"The stewards of {dataset} declined your request #{rid}. Their reason:\n\n"
            f"  {row['decision_reason']}\n\n"
            f"Your request's page: {status_url}\n"
        )
        return subject, body
    result = json.loads(row["result"] or "{}")
    patches = result.get("patches", {})
    lines = [f"  {old} is replaced by {new}" for old, new in sorted(patches.items())]
    subject = f"Your takedown request #{rid} for {dataset} was executed"
    body = (
        f"The stewards of {dataset} approved your request #{rid} and removed the records it\n"
        "named. New releases without them:\n\n"
        + ("\n".join(lines) or "  (no published release held them)")
        + "\n\nFuture runs drop these records at ingest. Your request's page: "
        + status_url
        + "\n"
    )
    return subject, body


def superseded(*, dataset: str, old: str, new: str, page_url: str) -> tuple[str, str]:
    subject = f"{dataset} {old} is superseded by {new}: please switch"
    body = (
        f"You downloaded {dataset} {old}. After a takedown request, the stewards removed records\n"
        f"from it and published {new}. Please delete your copy of {old} and use {new}:\n\n"
        f"  {page_url}\n"
    )
    return subject, body


def send(
    project: Path,
    mailer: Mailer,
    *,
    to: str,
    message: tuple[str, str],
    kind: str,
    request_id: int | None = None,
    version: str | None = None,
) -> bool:
    """Send and record one message; False (recorded with the error) when it could not go."""
    subject, body = message
    error = None
    try:
        mailer.send(to, subject, body)
    except TakedownRequestError as exc:
        error = str(exc)
        log.warning("%s", exc)
    with Ledger.open(project) as ledger:
        ledger.record_notice(
            email=to,
            kind=kind,
            subject=subject,
            request_id=request_id,
            version=version,
            error=error,
        )
    return error is None


def notify_outcome(
    project: Path,
    mailer: Mailer,
    request_id: int,
    *,
    dataset: str,
    status_url: str,
    page_url: Callable[[str], str],
) -> int:
    """Tell the requester the outcome and, after a takedown, every downloader of each
    superseded version; marks the request notified. Returns the number of e-mails sent."""
    with Ledger.open(project) as ledger:
        row = ledger.web_request(request_id)
    if row is None or row["status"] not in ("executed", "declined"):
        raise TakedownRequestError(f"takedown request #{request_id} has no outcome to tell yet")
    sent = int(
        send(
            project,
            mailer,
            to=row["email"],
            message=outcome(dataset=dataset, row=row, status_url=status_url),
            kind="requester",
            request_id=request_id,
        )
    )
    patches = json.loads(row["result"] or "{}").get("patches", {}) if row["result"] else {}
    for old, new in sorted(patches.items()):
        with Ledger.open(project) as ledger:
            people = ledger.downloader_emails(old)
        for email in people:
            sent += send(
                project,
                mailer,
                to=email,
                message=superseded(dataset=dataset, old=old, new=new, page_url=page_url(new)),
                kind="downloader",
                request_id=request_id,
                version=old,
            )
    with Ledger.open(project) as ledger:
        ledger.update_web_request(
            request_id, {"notified_at": utc_now()}, expect=("executed", "declined")
        )
    return sent
