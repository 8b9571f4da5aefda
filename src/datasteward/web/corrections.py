"""The "notify me of corrections" form: an address for the people who download a release openly.

Open releases are downloaded without anyone saying who they are, and the site does not record
each open download (the ledger would grow with every visitor, and an anonymous download names
nobody to tell). A person who wants to hear when a release is corrected leaves an address on
``/releases/{version}/notify``; nothing is kept active until they confirm it from the e-mailed
link (double opt-in: a GET shows a button, only the POST confirms, so a mail scanner opening
the link confirms nothing). The same private link cancels it. When a takedown's patch release
supersedes the version, the confirmed addresses are e-mailed once (the people who downloaded a
gated release are already told through their access request) and then deleted.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from datasteward.errors import TakedownRequestError
from datasteward.ledger import Ledger
from datasteward.requests import notify
from datasteward.requests.mail import Mailer
from datasteward.web.signing import token_sha256
from datasteward.web.site import Site, SiteDep
from datasteward.web.takedowns import base_url, mailer

log = logging.getLogger(__name__)
CONFIRM_HOURS = 72
_EMAIL = re.compile(r"[^@\s<>\"']{1,64}@[^@\s<>\"']{1,255}\.[A-Za-z0-9-]{2,63}")


def _now() -> datetime:
    return datetime.now(UTC)


def _release_or_404(site: Site, version: str) -> Any:
    view = site.releases.get(version)
    if view is None or view.withdrawn:
        raise NotFoundException(f"no current release {version}")
    return view


def _page(site: Site, name: str, *, status: int = 200, **context: Any) -> Template:
    return Template(
        f"public/{name}.html",
        context={"dataset": site.project.recipe.dataset, "hours": CONFIRM_HOURS, **context},
        status_code=status,
        headers={"referrer-policy": "no-referrer"},
    )


@get("/releases/{version:str}/notify", opt={"role": "anonymous"}, sync_to_thread=True)
def notify_form(site: SiteDep, version: FromPath[str]) -> Template:
    view = _release_or_404(site, version)
    return _page(site, "notify_form", release=view, error=None, email="",
                 can_mail=mailer(site) is not None)  # fmt: skip


@post(
    "/releases/{version:str}/notify",
    opt={"role": "anonymous", "throttle": "notify"},
    sync_to_thread=True,
    status_code=303,
)
def notify_subscribe(
    request: Request[Any, Any, Any],
    site: SiteDep,
    version: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Any:
    view = _release_or_404(site, version)
    email = str(data.get("email", "")).strip()
    send = mailer(site)
    if send is None:
        error = "This site cannot send e-mail, so it cannot tell you of corrections."
        return _page(site, "notify_form", status=503, release=view, email=email, can_mail=False,
                     error=error)  # fmt: skip
    if len(email) > 320 or not _EMAIL.fullmatch(email):
        return _page(site, "notify_form", status=400, release=view, email=email[:320],
                     can_mail=True, error="The e-mail address does not look like one.")  # fmt: skip
    token = secrets.token_urlsafe(32)
    site.ledger.subscribe(version=version, email=email, token_sha256=token_sha256(token))
    root = base_url(site, request)
    dataset = site.project.recipe.dataset.name
    subject = f"Confirm: tell you when {dataset} {version} is corrected"
    text = (
        f"Someone (we hope you) asked to be told when the stewards of {dataset} correct\n"
        f"release {version} (for example, a takedown that removes records from it).\n"
        f"Nothing is kept active until you confirm, within {CONFIRM_HOURS} hours:\n\n"
        f"  {root}/notify/confirm/{token}\n\n"
        "The same page cancels it at any time. If this was not you, ignore this message.\n"
    )
    try:
        send.send(email, subject, text)
    except TakedownRequestError as exc:  # said on the page, not a 500
        log.warning("subscription to %s: %s", version, exc)
        site.ledger.unsubscribe(token_sha256(token))
        return _page(site, "notify_form", status=503, release=view, email=email, can_mail=True,
                     error="We could not send the confirmation e-mail just now; please try "
                     "again later.")  # fmt: skip
    return Redirect(f"/releases/{version}/notify/sent", status_code=303)


@get("/releases/{version:str}/notify/sent", opt={"role": "anonymous"}, sync_to_thread=True)
def notify_sent(site: SiteDep, version: FromPath[str]) -> Template:
    return _page(site, "notify_done", release=_release_or_404(site, version), state="sent")


def _subscription(site: Site, token: str) -> Any:
    sub = site.ledger.subscription_by_token(token_sha256(token))
    if sub is None:
        raise NotFoundException("no such subscription (it was cancelled, or the link is wrong)")
    return sub


def _expired(sub: Any) -> bool:
    created = datetime.fromisoformat(sub.created_at.replace("Z", "+00:00"))
    return sub.status == "unconfirmed" and _now() - created > timedelta(hours=CONFIRM_HOURS)


@get("/notify/confirm/{token:str}", opt={"role": "anonymous"}, sync_to_thread=True)
def notify_confirm_page(site: SiteDep, token: FromPath[str]) -> Template:
    sub = _subscription(site, token)
    return _page(site, "notify_confirm", sub=sub, token=token, expired=_expired(sub))


@post(
    "/notify/confirm/{token:str}",
    opt={"role": "anonymous", "throttle": "notify"},
    sync_to_thread=True,
    status_code=200,
)
def notify_confirm(
    site: SiteDep,
    token: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    sub = _subscription(site, token)
    if data.get("action") == "cancel":
        site.ledger.unsubscribe(token_sha256(token))
        return _page(site, "notify_done", state="cancelled", sub=sub)
    if _expired(sub):
        return _page(site, "notify_confirm", status=410, sub=sub, token=token, expired=True)
    confirmed = site.ledger.confirm_subscription(token_sha256(token))
    return _page(site, "notify_done", state="confirmed", sub=confirmed or sub)


def tell_subscribers(
    project: Path,
    send: Mailer,
    patches: dict[str, str],
    *,
    request_id: int,
    dataset: str,
    page_url: Callable[[str], str],
) -> int:
    """E-mail the confirmed subscribers of each superseded version (except those already told
    as gated downloaders), then forget them. Returns the number of e-mails sent."""
    sent = 0
    for old, new in sorted(patches.items()):
        with Ledger.open(project) as ledger:
            told = set(ledger.downloader_emails(old))
            people = [e for e in ledger.subscriber_emails(old) if e not in told]
        for email in people:
            subject = f"{dataset} {old} was corrected: {new} replaces it"
            text = (
                f"You asked to be told when {dataset} {old} is corrected. After a takedown\n"
                f"request, the stewards removed records from it and published {new}. Please\n"
                f"delete your copy of {old} and use {new}:\n\n  {page_url(new)}\n\n"
                "This was the one message you asked for: we have deleted your address.\n"
            )
            sent += notify.send(project, send, to=email, message=(subject, text),
                                kind="subscriber", request_id=request_id, version=old)  # fmt: skip
        with Ledger.open(project) as ledger:
            ledger.forget_subscribers(old)
    return sent


ROUTES = [notify_form, notify_subscribe, notify_sent, notify_confirm_page, notify_confirm]
