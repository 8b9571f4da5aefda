"""Decisions and the log for stewards: the decision log (``decide`` from the browser, with
rationale and trade-off), the event log, and the result of ``log verify``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body
from litestar.response import Redirect, Template

from datasteward.errors import DatastewardError
from datasteward.web.auth import current_account
from datasteward.web.site import SiteDep

LOG_EVENTS = 200


@get("/manage/decisions", opt={"role": "viewer"}, sync_to_thread=True)
def decisions(request: Request[Any, Any, Any], site: SiteDep) -> Template:
    account = current_account(request)
    return Template(
        "review_decisions.html",
        context={
            "dataset": site.project.recipe.dataset,
            "decisions": list(reversed(site.ledger.list_decisions())),
            "can_decide": account is not None and account.role == "maintainer",
            "error": None,
        },
    )


# sync_to_thread=False: only one handler of a path may run in a thread (Litestar 2.25 wraps
# two of them twice and returns an un-awaited coroutine); this one is a short ledger call.
@post("/manage/decisions", opt={"role": "maintainer"}, sync_to_thread=False, status_code=303)
def decide(
    request: Request[Any, Any, Any],
    site: SiteDep,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    account = current_account(request)
    if account is None:
        raise HTTPException(status_code=401)
    try:
        site.ledger.record_decision(
            title=str(data.get("title", ""))[:1000],
            rationale=str(data.get("rationale", ""))[:10000],
            tradeoff=str(data.get("tradeoff", ""))[:10000] or None,
            by=str(account.name),
            recipe_hash=site.project.recipe.hash,
        )
    except DatastewardError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return Redirect("/manage/decisions", status_code=303)


@get("/manage/log", opt={"role": "maintainer"}, sync_to_thread=True)
def event_log(site: SiteDep) -> Template:
    events = list(reversed(site.ledger.events(limit=LOG_EVENTS)))
    head = site.ledger.head()
    return Template(
        "review_log.html",
        context={"dataset": site.project.recipe.dataset, "events": events, "head": head},
    )


@get("/manage/log/verify", opt={"role": "maintainer"}, sync_to_thread=True)
def verify(site: SiteDep) -> Template:
    result = site.ledger.verify()
    return Template(
        "review_verify.html", context={"dataset": site.project.recipe.dataset, "result": result}
    )


ROUTES = [decisions, decide, event_log, verify]
