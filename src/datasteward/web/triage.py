"""Takedown triage for maintainers: each request with its match preview, approve (a
background job runs the takedown, with progress that survives a reload) or decline with a
reason; the requester, the people who downloaded a superseded version through a gated
request, and those who asked to be notified of its corrections are e-mailed."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from datasteward.errors import DatastewardError
from datasteward.requests import decide, jobs, notify
from datasteward.web.auth import current_account
from datasteward.web.corrections import tell_subscribers
from datasteward.web.site import Site, SiteDep
from datasteward.web.takedowns import base_url, mailer, public_stages

log = logging.getLogger(__name__)
PREVIEW_ROWS = 50
_resumed: set[Path] = set()
_resume_lock = threading.Lock()


def _work(site: Site, root: str) -> jobs.Work:
    """The job: execute the takedown, then tell the requester and the downloaders."""

    def work(project: Path, request_id: int, progress: decide.Progress) -> dict[str, Any]:
        result = decide.execute(project, request_id, progress=progress)
        send = mailer(site)
        if send is not None:
            progress(3, 4, "e-mailing the requester and the people who downloaded")
            result["emails"] = notify.notify_outcome(
                project, send, request_id,
                dataset=site.project.recipe.dataset.name,
                status_url="the link in our first e-mail",
                page_url=lambda v: f"{root}/releases/{v}",
            )  # fmt: skip
            result["emails"] += tell_subscribers(
                project, send, result.get("patches") or {}, request_id=request_id,
                dataset=site.project.recipe.dataset.name,
                page_url=lambda v: f"{root}/releases/{v}",
            )  # fmt: skip
        progress(4, 4, "done")
        return result

    return work


def _resume(site: Site, request: Request[Any, Any, Any]) -> None:
    """Once per process: restart the jobs a stopped server left unfinished."""
    with _resume_lock:
        if site.directory in _resumed:
            return
        _resumed.add(site.directory)
    jobs.resume(jobs.JobStore(site.directory), _work(site, base_url(site, request)))


@get("/manage/takedowns", opt={"role": "maintainer"}, sync_to_thread=True)
def triage_list(request: Request[Any, Any, Any], site: SiteDep) -> Template:
    _resume(site, request)
    every = site.ledger.list_web_requests()
    rows = [r for r in every if r["status"] != "unconfirmed"]
    return Template(
        "takedown_triage.html",
        context={
            "dataset": site.project.recipe.dataset,
            "rows": rows,
            "unconfirmed": len(every) - len(rows),
        },
    )


def _preview(site: Site, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The records the request names (stewards see them; the requester sees counts)."""
    from datasteward.release.build.match import Request as Match
    from datasteward.release.build.takedown import find
    from datasteward.requests.intake import KINDS, request_value

    value = request_value(site.directory, row)
    if value is None:
        return []
    found = find(site.directory, [Match(0, KINDS[row["kind"]], value)])
    return [{"where": m.where, "id": m.id, "url": m.url} for m in found.items[:PREVIEW_ROWS]]


@get("/manage/takedowns/{request_id:int}", opt={"role": "maintainer"}, sync_to_thread=True)
def triage_detail(
    request: Request[Any, Any, Any], site: SiteDep, request_id: FromPath[int]
) -> Template:
    _resume(site, request)
    row = site.ledger.web_request(request_id)
    if row is None or row["status"] == "unconfirmed":
        raise NotFoundException(f"no confirmed takedown request #{request_id}")
    job = jobs.JobStore(site.directory).for_request(request_id)
    running = job is not None and job["state"] in ("queued", "running")
    return Template(
        "takedown_triage_detail.html",
        context={
            "dataset": site.project.recipe.dataset,
            "row": row,
            "value": _value(site, row),
            "evidence": json.loads(row["evidence"]) if row["evidence"] else None,
            "stages": public_stages(row),
            "preview": _preview(site, row) if row["status"] in decide.DECIDABLE else [],
            "decidable": row["status"] in decide.DECIDABLE,
            "job": job,
            "running": running,
            "notices": site.ledger.list_notices(request_id=request_id),
        },
    )


def _value(site: Site, row: dict[str, Any]) -> str:
    from datasteward.requests.intake import request_value

    return request_value(site.directory, row) or "(erased with the records)"


def _who(request: Request[Any, Any, Any]) -> str:
    account = current_account(request)
    if account is None:  # the guard lets no anonymous request here
        raise HTTPException(status_code=401)
    return str(account.name)


@post(
    "/manage/takedowns/{request_id:int}/approve",
    opt={"role": "maintainer"}, sync_to_thread=True, status_code=303,
)  # fmt: skip
def approve(request: Request[Any, Any, Any], site: SiteDep, request_id: FromPath[int]) -> Redirect:
    try:
        decide.approve(site.directory, request_id, by=_who(request))
    except DatastewardError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    store = jobs.JobStore(site.directory)
    job = store.create(kind="takedown", request_id=request_id)
    jobs.start(store, job["job_id"], _work(site, base_url(site, request)))
    return Redirect(f"/manage/takedowns/{request_id}", status_code=303)


@post(
    "/manage/takedowns/{request_id:int}/decline",
    opt={"role": "maintainer"}, sync_to_thread=True, status_code=303,
)  # fmt: skip
def decline(
    request: Request[Any, Any, Any],
    site: SiteDep,
    request_id: FromPath[int],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    reason = str(data.get("reason", ""))[:4000]
    try:
        decide.decline(site.directory, request_id, by=_who(request), reason=reason)
    except DatastewardError as exc:
        raise HTTPException(status_code=409 if reason.strip() else 400, detail=str(exc)) from None
    send = mailer(site)
    if send is not None:
        notify.notify_outcome(
            site.directory, send, request_id,
            dataset=site.project.recipe.dataset.name,
            status_url="the link in our first e-mail",
            page_url=lambda v: f"{base_url(site, request)}/releases/{v}",
        )  # fmt: skip
    return Redirect(f"/manage/takedowns/{request_id}", status_code=303)


ROUTES = [triage_list, triage_detail, approve, decline]
