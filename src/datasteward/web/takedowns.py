"""The public takedown form, the e-mailed confirmation, and the requester's status page.

Anyone may file a request (rate-limited per client address: the ``takedown`` throttle); the
requester confirms it from the link e-mailed to them (a signed token that expires), and
follows it on a private page reached by an unguessable token. The status page shows the
stages (received → matched → executed or declined → notified) with counts and release
versions only, never the records.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from datasteward.errors import TakedownRequestError
from datasteward.requests import intake, notify, tokens
from datasteward.requests.mail import Mailer, MailOptions
from datasteward.web.site import Site, SiteDep

log = logging.getLogger(__name__)
CONFIRM_HOURS = 72


def mailer(site: Site) -> Mailer | None:
    """The site's mailer (``[web] smtp_url``), or None when the recipe names no server."""
    web = getattr(site.project.recipe, "web", None)
    url = getattr(web, "smtp_url", None)
    if not url:
        return None
    return Mailer(
        MailOptions(smtp_url=url, sender=getattr(web, "mail_from", None) or "datasteward@localhost")
    )


def base_url(site: Site, request: Request[Any, Any, Any]) -> str:
    """Where links in e-mails point: ``[web] base_url``, else the address asked."""
    web = getattr(site.project.recipe, "web", None)
    configured = getattr(web, "base_url", None)
    return str(configured or str(request.base_url)).rstrip("/")


def _context(site: Site, **extra: Any) -> dict[str, Any]:
    return {
        "dataset": site.project.recipe.dataset,
        "kinds": intake.KIND_LABELS,
        "categories": intake.CATEGORIES,
        "max_evidence_mb": intake.EVIDENCE_MAX_BYTES // (1024 * 1024),
        "can_mail": mailer(site) is not None,
        **extra,
    }


@get("/takedown", opt={"role": "anonymous"}, sync_to_thread=False, name="takedown_form")
def takedown_form(site: SiteDep) -> Template:
    return Template("takedown_form.html", context=_context(site, error=None, values={}))


@post(
    "/takedown",
    opt={"role": "anonymous", "throttle": "takedown"},
    sync_to_thread=True,
    status_code=303,
)
def file_takedown(
    request: Request[Any, Any, Any],
    site: SiteDep,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Any:
    """File a request: check it, keep the evidence, e-mail the confirmation link."""
    values = {k: str(data.get(k, "") or "")[: intake.MAX_TEXT + 1] for k in (
        "kind", "value", "category", "explanation", "email")}  # fmt: skip
    send = mailer(site)
    if send is None:
        return _unavailable(
            site, values, "This site cannot send e-mail yet, so it cannot confirm a request. "
            "Please write to the dataset's stewards."
        )  # fmt: skip
    form = intake.TakedownForm(**values)
    try:
        intake.check_form(form)
        evidence = None
        upload = data.get("evidence")
        if isinstance(upload, UploadFile) and upload.filename:
            content = upload.file.read(intake.EVIDENCE_MAX_BYTES + 1)
            if content:
                evidence = intake.store_evidence(site.directory, content, filename=upload.filename)
        filed = intake.file_request(site.directory, form, evidence=evidence)
    except TakedownRequestError as exc:
        return Template(
            "takedown_form.html",
            context=_context(site, error=str(exc), values=values),
            status_code=400,
        )
    root = base_url(site, request)
    confirm = tokens.sign(
        site.settings.key("takedown-confirm"), "confirm", filed.request_id,
        max_age=CONFIRM_HOURS * 3600,
    )  # fmt: skip
    message = notify.confirmation(
        dataset=site.project.recipe.dataset.name,
        request_id=filed.request_id,
        confirm_url=f"{root}/takedown/confirm/{confirm}",
        status_url=f"{root}/takedown/status/{filed.status_token}",
    )
    sent = notify.send(
        site.directory, send, to=form.email.strip(), message=message, kind="requester",
        request_id=filed.request_id,
    )  # fmt: skip
    if not sent:  # recorded with the error; the request stays unconfirmed
        return _unavailable(
            site, values, "We could not send the confirmation e-mail just now; please try again "
            "later."
        )  # fmt: skip
    return Redirect("/takedown/sent", status_code=303)


def _unavailable(site: Site, values: dict[str, str], message: str) -> Template:
    """503 with the form as filled in (the site's error page hides a 5xx's detail)."""
    return Template(
        "takedown_form.html",
        context=_context(site, error=message, values=values),
        status_code=503,
    )


@get("/takedown/sent", opt={"role": "anonymous"}, sync_to_thread=False)
def takedown_sent(site: SiteDep) -> Template:
    return Template("takedown_sent.html", context=_context(site))


def _confirmed_id(site: Site, token: str) -> int:
    try:
        return tokens.unsign(site.settings.key("takedown-confirm"), "confirm", token)
    except TakedownRequestError as exc:
        raise HTTPException(status_code=400, detail=exc.message + f" ({exc.hint})") from None


# sync_to_thread=False: only one handler of a path may run in a thread (Litestar 2.25 wraps
# two of them twice and returns an un-awaited coroutine); this one is a short ledger call.
@get("/takedown/confirm/{token:str}", opt={"role": "anonymous"}, sync_to_thread=False)
def confirm_page(site: SiteDep, token: FromPath[str]) -> Template:
    """A page with a button: a GET (a mail scanner following links) confirms nothing."""
    rid = _confirmed_id(site, token)
    row = site.ledger.web_request(rid)
    if row is None:
        raise NotFoundException("no such request")
    return Template(
        "takedown_confirm.html",
        context=_context(site, row=row, value=_shown(site, row), token=token, done=False),
    )


@post("/takedown/confirm/{token:str}", opt={"role": "anonymous"}, sync_to_thread=True)
def confirm_request(site: SiteDep, token: FromPath[str]) -> Template:
    rid = _confirmed_id(site, token)
    try:
        row = intake.confirm(site.directory, rid)
    except TakedownRequestError as exc:
        raise NotFoundException(exc.message) from None
    return Template(
        "takedown_confirm.html",
        context=_context(site, row=row, value=_shown(site, row), token=token, done=True),
    )


STAGES = ("received", "matched", "decided", "notified")


def _shown(site: Site, row: dict[str, Any]) -> str:
    """The request's value as the requester gave it (gone once an erasure ran)."""
    return intake.request_value(site.directory, row) or "(erased with the records)"


def public_stages(row: dict[str, Any]) -> list[dict[str, Any]]:
    """What the requester may see: each stage, when, and counts or versions (no records)."""
    match = json.loads(row["match"]) if row.get("match") else None
    result = json.loads(row["result"]) if row.get("result") else {}
    status = row["status"]
    decided: dict[str, Any] = {"name": "decided", "at": None, "text": "waiting for a steward"}
    if status == "declined":
        decided = {
            "name": "declined",
            "at": row["decided_at"],
            "text": f"Declined by the stewards: {row['decision_reason']}",
        }
    elif status == "executed":
        patches = result.get("patches", {})
        decided = {
            "name": "executed",
            "at": row["decided_at"],
            "text": "Executed: "
            + (
                "; ".join(f"{old} is replaced by {new}" for old, new in sorted(patches.items()))
                or "no published release held the records; future runs drop them"
            ),
        }
    elif status in ("approved", "executing"):
        decided = {"name": "approved", "at": row["decided_at"], "text": "Approved; being executed"}
    elif status == "failed":
        decided = {
            "name": "approved",
            "at": row["decided_at"],
            "text": "Approved; the stewards are finishing it",
        }
    matched_text = None
    if match is not None:
        rel = match.get("releases", {})
        total = sum(rel.values())
        matched_text = (
            f"{total} record{'s' if total != 1 else ''} in "
            + (", ".join(f"release {v} ({n})" for v, n in rel.items()) or "no published release")
            + (
                f"; {match.get('latest_run', 0)} in the latest run"
                if match.get("latest_run")
                else ""
            )
        )
    return [
        {"name": "received", "at": row["confirmed_at"],
         "text": "Confirmed by you" if row["confirmed_at"] else "waiting for your confirmation"},
        {"name": "matched", "at": row["confirmed_at"] if match is not None else None,
         "text": matched_text or "not yet"},
        decided,
        {"name": "notified", "at": row["notified_at"],
         "text": "We e-mailed you the outcome" if row["notified_at"] else "not yet"},
    ]  # fmt: skip


@get("/takedown/status/{token:str}", opt={"role": "anonymous"}, sync_to_thread=True)
def status_page(site: SiteDep, token: FromPath[str]) -> Template:
    row = site.ledger.web_request_by_token(tokens.token_digest(token)) if len(token) < 100 else None
    if row is None:
        raise NotFoundException("no request has this address")
    return Template(
        "takedown_status.html",
        context=_context(
            site, row=row, value=_shown(site, row), stages=public_stages(row), status=row["status"]
        ),
    )


ROUTES = [takedown_form, file_takedown, takedown_sent, confirm_page, confirm_request, status_page]
