"""Public pages (no login): the dataset, each release (a tombstone once withdrawn), and
``/status.json`` with every release's status.

Release pages are rendered once per state of the release files (see
:class:`~datasteward.web.releases.ReleaseCache`) and served from memory after that. The
handlers are async: a cached page costs a few ``stat`` calls, no thread hop; a miss reads the
release's small documents once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from datasteward.web.auth import current_account
from datasteward.web.releases import DOCUMENTS, ReleaseView
from datasteward.web.site import Site, SiteDep
from datasteward.web.templating import environment


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


def _page(
    request: Request[Any, Any, Any],
    site: Site,
    key: tuple[Any, ...],
    template: str,
    context: Callable[[], dict[str, Any]],
    *,
    status_code: int = 200,
) -> Response[Any]:
    """A public page; for visitors without a session it is rendered once per state of the
    releases (their manifests and status files) and then served from memory."""
    if not _anonymous(request):
        current_account(request)  # the header shows who is logged in
        return Template(template, context=context(), status_code=status_code)
    full = (*key, site.releases.fingerprint())
    html = site.releases.rendered.get(full)
    if html is None:
        page = environment().get_template(template)
        html = page.render(**context(), request=request, csrf_input="", csrf_token="")
        if len(site.releases.rendered) > 256:
            site.releases.rendered.clear()
        site.releases.rendered[full] = html
    return Response(html, media_type=MediaType.HTML, status_code=status_code)


@get("/", opt={"role": "anonymous"}, name="dataset")
async def dataset_page(request: Request[Any, Any, Any], site: SiteDep) -> Response[Any]:
    def context() -> dict[str, Any]:
        return {
            "dataset": site.project.recipe.dataset,
            "stewards": site.project.recipe.stewards,
            "current": site.releases.current(),
            "releases": site.releases.all(),
            "access": site.access_mode,
        }

    return _page(request, site, ("dataset",), "public/dataset.html", context)


@get("/releases/{version:str}", opt={"role": "anonymous"}, name="release")
async def release_page(
    request: Request[Any, Any, Any], site: SiteDep, version: FromPath[str]
) -> Response[Any]:
    view = site.releases.get(version)
    if view is None:
        raise NotFoundException(f"no release {version}")
    if view.withdrawn:
        return _page(request, site, ("tombstone", version), "public/tombstone.html",
                     lambda: {"release": view, "dataset": site.project.recipe.dataset},
                     status_code=410)  # fmt: skip

    def context() -> dict[str, Any]:
        assert view is not None
        return {
            "dataset": site.project.recipe.dataset,
            "release": view,
            "documents": [(name, title, view.document(name)) for name, title in DOCUMENTS],
            "croissant": _croissant(view),
            "audit": _audit_summary(site, view) if site.publish_audit else None,
            "access": site.access_mode,
            "files": view.manifest.files,
        }

    return _page(request, site, ("release", version), "public/release.html", context)


def _croissant(view: ReleaseView) -> Any:
    text = view.document("croissant.json")
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _audit_summary(site: SiteDep, view: ReleaseView) -> dict[str, Any] | None:
    """The figures of the release's run audit that the stewards chose to publish."""
    run_id = view.manifest.run_id
    if not run_id:
        return None
    from datasteward.runs.layout import RunLayout, runs_dir

    path: Path = RunLayout(runs_dir(site.directory) / run_id).audit_json
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@get("/status.json", opt={"role": "anonymous"}, name="status")
async def status_json(site: SiteDep) -> Response[Any]:
    current = site.releases.current()
    body = {
        "dataset": site.project.recipe.dataset.name,
        "current": current.version if current else None,
        "releases": [_status_entry(v) for v in site.releases.all()],
    }
    return Response(body, media_type="application/json", headers={"cache-control": "no-cache"})


ROUTES = [dataset_page, release_page, status_json]
