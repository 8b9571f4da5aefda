"""Release files, open or gated, and the access requests of gated releases.

* ``GET /releases/{version}/files/{path}`` streams a file the release's manifest lists (or the
  manifest itself), after checking that the resolved path stays inside the release directory
  (``..``, encoded slashes, absolute paths and symlinks pointing out are refused). A withdrawn
  release's files are gone (410).
* With ``[release] access = "gated"``, data files (roles ``data`` and ``index``) need a signed,
  expiring link (``?token=``) made for an approved access request; documents and metadata stay
  public. Each such download is an ``access.download`` event in the ledger.
* ``/releases/{version}/access``: the request form (name, affiliation, e-mail, intended use,
  accepting the stewards' terms). The requester gets a private status page
  (``/access/{token}``) that shows the decision and, once approved, the signed links.
* ``/manage/access``: maintainers approve or deny (with a reason); the requester is e-mailed
  the decision through ``[web] smtp_url``: the signed links, or the reason
  (:mod:`datasteward.web.access_mail`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import Body, FromPath, FromQuery
from litestar.response import File, Redirect, Template

from datasteward.errors import LedgerError, WebError
from datasteward.release.format.manifest import MANIFEST
from datasteward.web.access_links import GATED_ROLES, download_links, link_key
from datasteward.web.access_mail import tell_requester
from datasteward.web.auth import current_account
from datasteward.web.releases import ReleaseView
from datasteward.web.security import contained
from datasteward.web.signing import token_sha256, unsign
from datasteward.web.site import Site, SiteDep
from datasteward.web.takedowns import base_url, mailer

_EMAIL = re.compile(r"[^@\s<>\"']{1,64}@[^@\s<>\"']{1,255}\.[A-Za-z0-9-]{2,63}")
_FIELDS = {"name": 256, "affiliation": 512, "email": 320, "intended_use": 4000}


class GoneException(HTTPException):
    status_code = 410


def _release(site: Site, version: str) -> ReleaseView:
    view = site.releases.get(version)
    if view is None:
        raise NotFoundException(f"no release {version}")
    return view


@get(
    "/releases/{version:str}/files/{path:path}",
    opt={"role": "anonymous"},
    sync_to_thread=True,
    name="release_file",
)
def release_file(
    site: SiteDep,
    version: FromPath[str],
    path: FromPath[str],
    token: FromQuery[str | None] = None,
) -> Response[Any]:
    view = _release(site, version)
    if view.withdrawn:
        raise GoneException(
            f"release {version} was withdrawn; its files are no longer served"
            + (f" (use {view.replacement})" if view.replacement else "")
        )
    rel = path.lstrip("/")
    entry = view.file(rel)
    if entry is None and rel != MANIFEST:
        raise NotFoundException(f"release {version} has no file {rel!r}")
    target = contained(view.directory, rel)
    if target is None:
        raise NotFoundException(f"release {version} has no file {rel!r}")
    request_id: int | None = None
    if entry is not None and entry.role in GATED_ROLES and site.access_mode == "gated":
        request_id = _check_token(site, version, token)
        site.access.record_download(version=version, path=rel, request_id=request_id)
    return File(
        path=target,
        filename=target.name,
        content_disposition_type="attachment",
        etag=None,
        headers={"cache-control": "private, max-age=0" if request_id else "public, max-age=300"},
    )


def _check_token(site: Site, version: str, token: str | None) -> int:
    if not token:
        raise PermissionDeniedException(
            f"release {version} is gated: request access at /releases/{version}/access"
        )
    try:
        payload = unsign(link_key(site), token)
    except (WebError, ValueError) as exc:
        raise PermissionDeniedException(str(exc)) from None
    if payload.get("p") != "download" or payload.get("v") != version:
        raise PermissionDeniedException("this link is for another release")
    request = site.access.access_request(int(payload.get("r", 0)))
    if request is None or request.status != "approved":
        raise PermissionDeniedException("this access request is not approved")
    return request.request_id


@get("/releases/{version:str}/access", opt={"role": "anonymous"}, sync_to_thread=True)
def access_form(site: SiteDep, version: FromPath[str]) -> Template:
    view = _release(site, version)
    if site.access_mode != "gated":
        raise NotFoundException(f"release {version} is open: its files need no request")
    return Template(
        "public/access_form.html",
        context={"release": view, "dataset": site.project.recipe.dataset,
                 "terms": site.terms, "errors": [], "values": {}},
    )  # fmt: skip


@post(
    "/releases/{version:str}/access",
    opt={"role": "anonymous", "throttle": "access"},
    sync_to_thread=True,
    status_code=303,
)
def access_request(
    site: SiteDep,
    version: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    view = _release(site, version)
    if site.access_mode != "gated":
        raise NotFoundException(f"release {version} is open: its files need no request")
    values = {k: str(data.get(k, "")).strip() for k in _FIELDS}
    errors = [f"{k.replace('_', ' ')} is required" for k, v in values.items() if not v]
    errors += [
        f"{k.replace('_', ' ')} is longer than {n} characters"
        for k, n in _FIELDS.items()
        if len(values[k]) > n
    ]
    if values["email"] and not _EMAIL.fullmatch(values["email"]):
        errors.append("the e-mail address does not look like one")
    if data.get("accept_terms") != "yes":
        errors.append("you need to accept the terms to request access")
    if errors:
        return Template(
            "public/access_form.html",
            context={"release": view, "dataset": site.project.recipe.dataset,
                     "terms": site.terms, "errors": errors, "values": values},
            status_code=400,
        )  # fmt: skip
    token = secrets.token_urlsafe(32)
    site.access.request_access(
        version=version,
        name=values["name"],
        affiliation=values["affiliation"],
        email=values["email"],
        intended_use=values["intended_use"],
        terms_sha256=hashlib.sha256(site.terms.encode("utf-8")).hexdigest(),
        status_token_sha256=token_sha256(token),
    )
    return Redirect(f"/access/{token}", status_code=303)


@get("/access/{token:str}", opt={"role": "anonymous"}, sync_to_thread=True)
def access_status(site: SiteDep, token: FromPath[str]) -> Template:
    """The requester's private page: the decision and, when approved, the signed links."""
    request = site.access.access_request_by_token(token_sha256(token))
    if request is None:
        raise NotFoundException("no such access request (check the link you were given)")
    links = download_links(site, request) if request.status == "approved" else []
    return Template(
        "public/access_status.html",
        context={"req": request, "links": links, "dataset": site.project.recipe.dataset,
                 "hours": site.settings.link_hours},
        headers={"referrer-policy": "no-referrer"},
    )  # fmt: skip


@get("/manage/access", opt={"role": "maintainer"}, sync_to_thread=True, name="manage_access")
def manage_access(site: SiteDep, mail: FromQuery[str | None] = None) -> Template:
    return Template(
        "manage/access.html",
        context={"pending": site.access.access_requests(status="pending"),
                 "decided": [r for r in site.access.access_requests() if r.status != "pending"],
                 "dataset": site.project.recipe.dataset, "mail_failed": mail == "failed",
                 "can_mail": mailer(site) is not None},
    )  # fmt: skip


@post(
    "/manage/access/{request_id:int}/decide",
    opt={"role": "maintainer"},
    sync_to_thread=True,
    status_code=303,
)
def decide_access(
    request: Request[Any, Any, Any],
    site: SiteDep,
    request_id: FromPath[int],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    decision = data.get("decision")
    if decision not in ("approve", "deny"):
        raise ClientException("decision must be approve or deny")
    account = current_account(request)
    reason = (data.get("reason") or "").strip()[:4000] or None
    if decision == "deny" and not reason:
        raise ClientException("say why the request is denied (the requester reads it)")
    try:
        decided = site.access.decide_access(
            request_id, approve=decision == "approve", by=account.name if account else "?",
            reason=reason,
        )  # fmt: skip
    except LedgerError as exc:
        raise ClientException(str(exc)) from None
    sent = tell_requester(site, decided, root=base_url(site, request))
    target = "/manage/access" + ("?mail=failed" if sent is False else "")
    return Redirect(target, status_code=303)


ROUTES = [release_file, access_form, access_request, access_status, manage_access, decide_access]
