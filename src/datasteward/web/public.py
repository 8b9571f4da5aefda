"""Public pages (no login): the dataset, each release (a tombstone once withdrawn), and
``/status.json`` with every release's status.

Release pages are rendered once per state of the release files (see
:class:`~datasteward.web.releases.ReleaseCache`) and served from memory after that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from datasteward.web.releases import DOCUMENTS, ReleaseView
from datasteward.web.site import SiteDep


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


@get("/", opt={"role": "anonymous"}, sync_to_thread=True, name="dataset")
def dataset_page(site: SiteDep) -> Template:
    views = site.releases.all()
    current = site.releases.current()
    return Template(
        "public/dataset.html",
        context={
            "dataset": site.project.recipe.dataset,
            "stewards": site.project.recipe.stewards,
            "current": current,
            "releases": views,
            "access": site.access_mode,
        },
    )


@get("/releases/{version:str}", opt={"role": "anonymous"}, sync_to_thread=True, name="release")
def release_page(site: SiteDep, version: FromPath[str]) -> Response[Any]:
    view = site.releases.get(version)
    if view is None:
        raise NotFoundException(f"no release {version}")
    if view.withdrawn:
        return Template(
            "public/tombstone.html",
            context={"release": view, "dataset": site.project.recipe.dataset},
            status_code=410,
        )
    documents = [(name, title, view.document(name)) for name, title in DOCUMENTS]
    croissant = _croissant(view)
    audit = _audit_summary(site, view) if site.publish_audit else None
    return Template(
        "public/release.html",
        context={
            "dataset": site.project.recipe.dataset,
            "release": view,
            "documents": documents,
            "croissant": croissant,
            "audit": audit,
            "access": site.access_mode,
            "files": view.manifest.files,
        },
    )


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


@get("/status.json", opt={"role": "anonymous"}, sync_to_thread=True, name="status")
def status_json(site: SiteDep) -> Response[Any]:
    current = site.releases.current()
    body = {
        "dataset": site.project.recipe.dataset.name,
        "current": current.version if current else None,
        "releases": [_status_entry(v) for v in site.releases.all()],
    }
    return Response(body, media_type="application/json", headers={"cache-control": "no-cache"})


ROUTES = [dataset_page, release_page, status_json]
