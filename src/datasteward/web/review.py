"""The review queue: the stratified samples of ``datasteward sample``, judged in the browser.

Keyboard first (``static/review.js``): ``j``/``k`` next/previous, ``1`` ok, ``2``-``9`` a
problem of that category, ``n`` the note. Every judgement is written with the ledger's
``record_review`` (the same table the CLI ``review`` writes), by the logged-in reviewer; two
reviewers may judge the same items, and their agreement (Cohen's kappa, Krippendorff's
alpha) is shown overall, per step and per stratum.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from datasteward.audit.agreement import sample_agreement
from datasteward.errors import DatastewardError
from datasteward.web.auth import current_account
from datasteward.web.site import Site, SiteDep

#: Key → label: 1 is ok, 2-9 a problem of that category (the CLI `review` categories).
LABELS: tuple[tuple[str, str, str | None], ...] = (
    ("1", "ok", None),
    ("2", "problem", "wrongly-removed"),
    ("3", "problem", "wrongly-kept"),
    ("4", "problem", "offensive"),
    ("5", "problem", "pii"),
    ("6", "problem", "low-quality"),
    ("7", "problem", "not-target-language"),
    ("8", "problem", "duplicate"),
    ("9", "problem", "other"),
)
TEXT_CHARS = 4000


def _me(request: Request[Any, Any, Any]) -> str:
    account = current_account(request)
    if account is None:
        raise HTTPException(status_code=401)
    return str(account.name)


def _samples(site: Site) -> list[dict[str, Any]]:
    return site.ledger.list_samples()


@get("/review", opt={"role": "reviewer"}, sync_to_thread=True)
def samples(request: Request[Any, Any, Any], site: SiteDep) -> Template:
    me = _me(request)
    rows = []
    for info in _samples(site):
        judged = site.ledger.sample_judgements(int(info["sample_id"]))
        mine = {j["position"] for j in judged if j["reviewer"] == me}
        rows.append(
            {**info, "mine": len(mine), "reviewers": sorted({j["reviewer"] for j in judged})}
        )
    return Template(
        "review_samples.html", context={"dataset": site.project.recipe.dataset, "rows": rows}
    )


def _items(site: Site, sample_id: int) -> list[Any]:
    try:
        return site.ledger.sample_items(sample_id)
    except DatastewardError as exc:
        raise NotFoundException(exc.message) from None


@get("/review/{sample_id:int}", opt={"role": "reviewer"}, sync_to_thread=True)
def next_item(request: Request[Any, Any, Any], site: SiteDep, sample_id: FromPath[int]) -> Redirect:
    """The first item this reviewer has not judged (or the agreement page when done)."""
    me = _me(request)
    items = _items(site, sample_id)
    done = {j["position"] for j in site.ledger.sample_judgements(sample_id) if j["reviewer"] == me}
    for item in items:
        if item.position not in done:
            return Redirect(f"/review/{sample_id}/{item.position}", status_code=303)
    return Redirect(f"/review/{sample_id}/agreement", status_code=303)


def _record(site: Site, run_id: str, record_id: str) -> dict[str, Any]:
    from datasteward.audit.rundata import connect, open_run
    from datasteward.audit.samples import fetch_records
    from datasteward.runs.find import find_run

    run = open_run(find_run(site.directory, run_id))
    con = connect(run)
    try:
        return fetch_records(con, [record_id], text_chars=TEXT_CHARS).get(record_id, {})
    finally:
        con.close()


@get("/review/{sample_id:int}/{position:int}", opt={"role": "reviewer"}, sync_to_thread=True)
def item_page(
    request: Request[Any, Any, Any],
    site: SiteDep,
    sample_id: FromPath[int],
    position: FromPath[int],
) -> Template:
    me = _me(request)
    items = _items(site, sample_id)
    by_pos = {i.position: i for i in items}
    if position not in by_pos:
        raise NotFoundException(f"review sample #{sample_id} has no item {position}")
    item = by_pos[position]
    info = site.ledger.sample_info(sample_id)
    judged = site.ledger.sample_judgements(sample_id)
    mine = [j for j in judged if j["reviewer"] == me and j["position"] == position]
    positions = [i.position for i in items]
    at = positions.index(position)
    return Template(
        "review_item.html",
        context={
            "dataset": site.project.recipe.dataset,
            "info": info,
            "item": item,
            "record": _record(site, str(info["run_id"]), item.record_id),
            "labels": LABELS,
            "mine": mine[-1] if mine else None,
            "done": len({j["position"] for j in judged if j["reviewer"] == me}),
            "total": len(items),
            "prev": positions[at - 1] if at > 0 else None,
            "next": positions[at + 1] if at + 1 < len(positions) else None,
        },
    )


# sync_to_thread=False: only one handler of a path may run in a thread (Litestar 2.25 wraps
# two of them twice and returns an un-awaited coroutine); this one is a short ledger call.
@post(
    "/review/{sample_id:int}/{position:int}",
    opt={"role": "reviewer"}, sync_to_thread=False, status_code=303,
)  # fmt: skip
def judge(
    request: Request[Any, Any, Any],
    site: SiteDep,
    sample_id: FromPath[int],
    position: FromPath[int],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    me = _me(request)
    items = {i.position: i for i in _items(site, sample_id)}
    if position not in items:
        raise NotFoundException(f"review sample #{sample_id} has no item {position}")
    chosen = next((lab for lab in LABELS if lab[0] == data.get("label")), None)
    if chosen is None:
        raise HTTPException(status_code=400, detail="choose a label (keys 1 to 9)")
    note = str(data.get("note", ""))[:4000] or None
    try:
        site.ledger.record_review(
            sample_id=sample_id, record_id=items[position].record_id, verdict=chosen[1],
            reviewer=me, category=chosen[2], note=note,
        )  # fmt: skip
    except DatastewardError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return Redirect(f"/review/{sample_id}", status_code=303)


@get("/review/{sample_id:int}/agreement", opt={"role": "reviewer"}, sync_to_thread=True)
def agreement_page(site: SiteDep, sample_id: FromPath[int]) -> Template:
    items = _items(site, sample_id)
    judged = site.ledger.sample_judgements(sample_id)
    rows = sample_agreement(
        [{"position": i.position, "stratum": i.stratum, "step_id": i.step_id} for i in items],
        judged,
    )
    per_reviewer: dict[str, int] = {}
    for j in judged:
        per_reviewer.setdefault(j["reviewer"], 0)
    for r in per_reviewer:
        per_reviewer[r] = len({j["position"] for j in judged if j["reviewer"] == r})
    return Template(
        "review_agreement.html",
        context={
            "dataset": site.project.recipe.dataset,
            "info": site.ledger.sample_info(sample_id),
            "rows": rows,
            "per_reviewer": per_reviewer,
            "total": len(items),
        },
    )


ROUTES = [samples, next_item, item_page, judge, agreement_page]
