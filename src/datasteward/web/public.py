"""Public pages (no login): the dataset, each release (a tombstone once withdrawn), and
``/status.json`` with every release's status.

For visitors without a session every page is rendered once per state of the files it shows
(see :mod:`datasteward.web.page_cache`) and served from memory as bytes with an ETag (304 to a
matching ``If-None-Match``). The handlers are async: a cached page costs a few ``stat`` calls,
no thread hop; a miss reads the release's small documents once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from litestar import Request, Response, get
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from datasteward.web.auth import current_account
from datasteward.web.page_cache import CachedPage
from datasteward.web.public_files import open_file, send_file
from datasteward.web.releases import DOCUMENTS, ReleasesState, ReleaseView, file_key
from datasteward.web.site import Site, SiteDep
from datasteward.web.templating import environment

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send


def _status_entry(view: ReleaseView) -> dict[str, Any]:
    dep = view.deprecation
    return {
        "version": view.version,
        "status": view.state,
        "withdrawn": view.withdrawn,
        "draft": view.manifest.draft,
        "created_at": view.manifest.created_at,
        "records": view.manifest.records,
        "superseded_by": view.superseded_by,
        "replacement": view.replacement,
        "deprecation": dep,
        "url": f"/releases/{view.version}",
    }


def _anonymous(request: Request[Any, Any, Any]) -> bool:
    session = request.scope.get("session")
    return not (isinstance(session, dict) and session.get("user"))


#: Public pages skip the CSRF middleware (they hold no form for visitors, and a visitor
#: without cookies, e.g. a crawler reading the Croissant, would otherwise be sent a new CSRF
#: cookie with every page); a steward's copy gets its token from :func:`_steward_csrf`.
PUBLIC = {"role": "anonymous", "exclude_from_csrf": True}


async def _page(
    request: Request[Any, Any, Any],
    site: Site,
    slot: _Slot,
    template: str,
    context: Callable[[], dict[str, Any]],
    *,
    status_code: int = 200,
) -> Response[Any]:
    """A public page. Visitors without a session get it from :attr:`Site.pages`, rendered
    once per ``slot.stamp`` (the state of the files it shows), with an ETag; a logged-in
    steward's copy is rendered fresh (its header names the account) and never cached."""
    if not _anonymous(request):
        await anyio.to_thread.run_sync(current_account, request)  # the header names who
        cookies = _steward_csrf(request)
        return Template(template, context=context(), status_code=status_code, cookies=cookies)
    page = site.pages.get(slot.key, slot.stamp)
    if page is None:
        html = (
            environment()
            .get_template(template)
            .render(**context(), request=_NO_REQUEST, csrf_input="", csrf_token="")
        )
        page = CachedPage.of(
            html.encode("utf-8"), media_type="text/html",
            status_code=status_code, modified=slot.modified,
        )  # fmt: skip
        site.pages.put(slot.key, slot.stamp, page)
    return page.response(request)


class _NoRequest:
    """What a cached page's template sees as ``request``: no account, nothing of the visitor
    (the same bytes go to everyone)."""

    scope: dict[str, Any] = {}  # noqa: RUF012 - read-only, empty


_NO_REQUEST = _NoRequest()


def _steward_csrf(request: Request[Any, Any, Any]) -> list[Cookie]:
    """The CSRF token for a steward's copy of a public page (its log-out form), as the CSRF
    middleware would give it on another page: the cookie's, or a new one set with the page."""
    from litestar.middleware.csrf import generate_csrf_token
    from litestar.utils.scope.state import ScopeState

    config = request.app.csrf_config
    if config is None:
        return []
    token = request.cookies.get(config.cookie_name)
    cookies = []
    if not token:
        token = generate_csrf_token(secret=config.secret)
        cookies.append(Cookie(
            key=config.cookie_name, value=token, path=config.cookie_path,
            secure=config.cookie_secure, httponly=config.cookie_httponly,
            samesite=config.cookie_samesite, domain=config.cookie_domain,
        ))  # fmt: skip
    ScopeState.from_scope(request.scope).csrf_token = token
    return cookies


@dataclass(frozen=True)
class _Slot:
    """Where a public page is cached: its key, the stamp it is valid for, its Last-Modified."""

    key: tuple[Any, ...]
    stamp: tuple[Any, ...]
    modified: float


def _release_slot(site: Site, state: ReleasesState, view: ReleaseView) -> _Slot:
    if view.withdrawn:
        return _Slot(("tombstone", view.version), state.stamp, state.modified)
    audit = _audit_path(site, view) if site.publish_audit else None
    if audit is None:
        return _Slot(("release", view.version), state.stamp, state.modified)
    audit_key = file_key(audit)  # the published audit summary is part of the page
    modified = max(state.modified, audit_key[0] / 1e9)
    return _Slot(("release", view.version), (state.stamp, audit_key), modified)


def cached_page(site: Site, path: str) -> CachedPage | None:
    """The page an anonymous GET of ``path`` gets, if it is cached and still current (the
    stamps are checked, nothing is rendered); None for any other path or a miss."""
    state = site.releases.state()
    if path == "/":
        slot = _Slot(("dataset",), state.stamp, state.modified)
    elif path == "/status.json":
        slot = _Slot(("status.json",), state.stamp, state.modified)
    elif path.startswith(_RELEASES) and "/" not in path[len(_RELEASES) :]:
        view = site.releases.get(path[len(_RELEASES) :], state)
        if view is None:
            return None
        slot = _release_slot(site, state, view)
    else:
        return None
    return site.pages.get(slot.key, slot.stamp)


_RELEASES = "/releases/"


def cached_pages_first(app: ASGIApp, site: Site, *, session_cookie: str) -> ASGIApp:
    """An ASGI layer in front of the application's routing and middleware: an anonymous GET
    (no ``session_cookie``) of a public page that is cached and current is answered from
    memory at once, and a GET of a data file of an open release is streamed
    (:mod:`datasteward.web.public_files`); everything else, and every miss, goes to ``app``,
    whose handlers render and cache the page. The application's ``before_send`` hooks still
    run on the answer (the layer is installed as ``Litestar.asgi_handler``, inside them), so
    its security headers are the same as on every other response."""
    marker = session_cookie.encode("latin-1") + b"="

    async def first(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope.get("method") == "GET":
            headers = scope["headers"]
            if not any(k == b"cookie" and marker in v for k, v in headers):
                try:
                    page = cached_page(site, scope["path"])
                except Exception:  # noqa: BLE001 - the application answers (and reports) it
                    page = None
                if page is not None:
                    await page.send(headers, send)
                    return
            if not scope.get("query_string"):  # a token (gated links) goes to the app
                try:
                    target = open_file(site, scope["path"])
                except Exception:  # noqa: BLE001 - the application answers (and reports) it
                    target = None
                if target is not None and await send_file(target, receive, send):
                    return
        await app(scope, receive, send)

    return first


@get("/", opt=PUBLIC, name="dataset")
async def dataset_page(request: Request[Any, Any, Any], site: SiteDep) -> Response[Any]:
    state = site.releases.state()

    def context() -> dict[str, Any]:
        return {
            "dataset": site.project.recipe.dataset,
            "stewards": site.project.recipe.stewards,
            "current": site.releases.current(state),
            "releases": site.releases.all(state),
            "access": site.access_mode,
        }

    slot = _Slot(("dataset",), state.stamp, state.modified)
    return await _page(request, site, slot, "public/dataset.html", context)


@get("/releases/{version:str}", opt=PUBLIC, name="release")
async def release_page(
    request: Request[Any, Any, Any], site: SiteDep, version: FromPath[str]
) -> Response[Any]:
    state = site.releases.state()
    view = site.releases.get(version, state)
    if view is None:
        raise NotFoundException(f"no release {version}")
    slot = _release_slot(site, state, view)
    if view.withdrawn:
        return await _page(request, site, slot, "public/tombstone.html",
                           lambda: {"release": view, "dataset": site.project.recipe.dataset},
                           status_code=410)  # fmt: skip

    def context() -> dict[str, Any]:
        assert view is not None
        audit = _audit_path(site, view) if site.publish_audit else None
        return {
            "dataset": site.project.recipe.dataset,
            "release": view,
            "documents": [(name, title, view.document(name)) for name, title in DOCUMENTS],
            "croissant": _croissant(view),
            "audit": _audit_summary(audit) if audit is not None else None,
            "access": site.access_mode,
            "files": view.manifest.files,
        }

    return await _page(request, site, slot, "public/release.html", context)


def _croissant(view: ReleaseView) -> Any:
    text = view.document("croissant.json")
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _audit_path(site: SiteDep, view: ReleaseView) -> Path | None:
    """Where the audit of the release's run is (its summary is published on the page)."""
    run_id = view.manifest.run_id
    if not run_id:
        return None
    from datasteward.runs.layout import RunLayout, runs_dir

    return RunLayout(runs_dir(site.directory) / run_id).audit_json


def _audit_summary(path: Path) -> dict[str, Any] | None:
    """The figures of the release's run audit that the stewards chose to publish."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@get("/status.json", opt=PUBLIC, name="status")
async def status_json(request: Request[Any, Any, Any], site: SiteDep) -> Response[Any]:
    state = site.releases.state()
    page = site.pages.get(("status.json",), state.stamp)
    if page is None:
        current = site.releases.current(state)
        body = {
            "dataset": site.project.recipe.dataset.name,
            "current": current.version if current else None,
            "releases": [_status_entry(v) for v in site.releases.all(state)],
        }
        page = CachedPage.of(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                             media_type="application/json", status_code=200,
                             modified=state.modified)  # fmt: skip
        site.pages.put(("status.json",), state.stamp, page)
    return page.response(request)


ROUTES = [dataset_page, release_page, status_json]
