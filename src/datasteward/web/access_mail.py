"""The e-mail a person gets when a steward decides their access request to a gated release:
approved, with the signed download links (valid ``link_hours``); denied, with the stewards'
reason. Sent through ``[web] smtp_url`` with the takedown flow's mailer; each message (or
the error that kept it from going) is recorded in the ledger's notices (kind ``access``).

The private status page the person was given when they asked keeps working either way (it
shows the decision and makes fresh links), so a message that could not be sent loses nothing;
the maintainer is told so.
"""

from __future__ import annotations

import logging

from datasteward.errors import TakedownRequestError
from datasteward.ledger.web_access import AccessRequest
from datasteward.web.access_links import download_links
from datasteward.web.site import Site

log = logging.getLogger(__name__)


def message(site: Site, request: AccessRequest, *, root: str) -> tuple[str, str]:
    """(subject, body) of the decision on ``request``; links are absolute under ``root``."""
    dataset = site.project.recipe.dataset.name
    what = f"{dataset} {request.version}"
    if request.status == "denied":
        return (
            f"Your access request #{request.request_id} for {what} was denied",
            f"Dear {request.name},\n\n"
            f"the stewards of {dataset} denied your request to download release "
            f"{request.version}. Their reason:\n\n"
            f"  {request.decision_reason or '(none given)'}\n\n"
            "You may file a new request on the release's page if your use changes.\n",
        )
    hours = site.settings.link_hours
    links = "\n".join(f"  {path}\n    {root}{url}" for path, url in download_links(site, request))
    return (
        f"Your access request #{request.request_id} for {what} was approved",
        f"Dear {request.name},\n\n"
        f"the stewards of {dataset} approved your request to download release "
        f"{request.version}. The links below are yours alone and work for {hours} hours; "
        "the page you were given when you asked makes fresh ones.\n\n"
        f"{links or '  (the release has no files to download any more)'}\n\n"
        "You accepted these terms:\n\n"
        f"  {site.terms}\n\n"
        f"Release page: {root}/releases/{request.version}\n"
        "If you download with these links and a later release corrects this one, we will\n"
        "write to this address.\n",
    )


def tell_requester(site: Site, request: AccessRequest, *, root: str) -> bool | None:
    """E-mail the decision; True if sent, False if it could not go (recorded with the
    error), None when the site has no mail server (``[web] smtp_url`` unset)."""
    from datasteward.web.takedowns import mailer

    send = mailer(site)
    if send is None:
        return None
    subject, text = message(site, request, root=root)
    error = None
    try:
        send.send(request.email, subject, text)
    except TakedownRequestError as exc:
        error = str(exc)
        log.warning("access request #%s: %s", request.request_id, exc)
    site.ledger.record_notice(
        email=request.email, kind="access", subject=subject, request_id=None,
        version=request.version, error=error,
    )  # fmt: skip
    return error is None
