"""``datacite.json``: DataCite Metadata Schema 4.5 (JSON form), ready to register a DOI.

The tests validate it against ``datacite-v4.5.json`` as shipped in the ``datacite`` PyPI
package (inveniosoftware/datacite). ``doi`` is left out until one is minted; deprecation adds
an ``IsObsoletedBy`` related identifier (see :mod:`datasteward.release.build.deprecate`).

``resourceType`` comes from the records (:mod:`datasteward.release.documents.kind`: text,
image metadata, links), ``language`` from ``[dataset] language`` (the first one: DataCite
takes one primary language), ``subjects`` from ``[dataset] keywords``. ``rightsList`` has one
entry per licence of the records, the unknown one saying so. A related release is a URL under
``[dataset] homepage`` or, without one, a URN ``urn:datasteward:<dataset>:<version>``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from datasteward.release.documents.context import ReleaseContext
from datasteward.release.documents.kind import content_kind

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"


def release_urn(dataset: str, version: str) -> str:
    """A URN (RFC 8141 syntax) naming a release of a dataset when it has no URL."""
    return f"urn:datasteward:{quote(dataset, safe='')}:{quote(version, safe='')}"


def _rights(licenses: dict[str, int]) -> list[dict[str, Any]]:
    from datasteward.rights.notice import license_url

    out: list[dict[str, Any]] = []
    for spdx in licenses:
        if spdx == "unknown":
            out.append(
                {
                    "rights": f"Licence unknown for {licenses[spdx]:,} records (their "
                    "`license` column says unknown); see NOTICE.md"
                }
            )
            continue
        entry: dict[str, Any] = {
            "rights": spdx,
            "rightsIdentifier": spdx,
            "rightsIdentifierScheme": "SPDX",
            "schemeUri": "https://spdx.org/licenses/",
        }
        url = license_url(spdx)
        if url:
            entry["rightsUri"] = url
        out.append(entry)
    return out


def build_datacite(ctx: ReleaseContext, sheet: Any) -> dict[str, Any]:
    facts = sheet.facts if sheet is not None else None
    creators = [{"name": s.name, "nameType": "Personal"} for s in ctx.stewards if s.name] or [
        {"name": "unknown", "nameType": "Organizational"}
    ]
    doc: dict[str, Any] = {
        "types": {
            "resourceTypeGeneral": "Dataset",
            "resourceType": content_kind(ctx).resource_type(links_only=ctx.links_only),
        },
        "creators": creators,
        "titles": [{"title": ctx.dataset}],
        "publisher": {"name": creators[0]["name"]},
        "publicationYear": ctx.created_at[:4],
        "version": ctx.version,
        "dates": [{"date": ctx.created_at[:10], "dateType": "Issued"}],
        "formats": ["application/x-parquet"],
        "sizes": [
            f"{ctx.records} records",
            f"{sum(f.bytes for f in ctx.data_files)} bytes",
        ],
        "schemaVersion": SCHEMA_VERSION,
    }
    if ctx.description:
        doc["descriptions"] = [{"description": ctx.description, "descriptionType": "Abstract"}]
    if sheet is not None and sheet.text("preprocessing", "done"):
        doc.setdefault("descriptions", []).append(
            {"description": sheet.text("preprocessing", "done"), "descriptionType": "Methods"}
        )
    if ctx.links_only:
        from datasteward.release.documents.croissant import LINKS_ONLY_NOTE

        doc.setdefault("descriptions", []).append(
            {"description": LINKS_ONLY_NOTE, "descriptionType": "TechnicalInfo"}
        )
    if ctx.homepage:
        doc["url"] = ctx.homepage
    info = ctx.recipe.dataset if ctx.recipe is not None else None
    if info is not None and info.language:
        doc["language"] = info.language[0]
    if info is not None and info.keywords:
        doc["subjects"] = [{"subject": k} for k in dict.fromkeys(info.keywords)]
    if facts is not None and facts.licenses:
        doc["rightsList"] = _rights(facts.licenses)
    if facts is not None and facts.retrieved_min:
        doc["dates"].append(
            {
                "date": f"{facts.retrieved_min[:10]}/{facts.retrieved_max[:10]}",
                "dateType": "Collected",
            }
        )
    if ctx.parent:
        doc["relatedIdentifiers"] = [
            {
                "relatedIdentifier": release_urn(ctx.dataset, ctx.parent),
                "relatedIdentifierType": "URN" if not ctx.homepage else "URL",
                "relationType": "IsNewVersionOf",
            }
        ]
        if ctx.homepage:
            doc["relatedIdentifiers"][0]["relatedIdentifier"] = (
                ctx.homepage.rstrip("/") + f"/releases/{ctx.parent}/"
            )
    return doc


def render_datacite(ctx: ReleaseContext, sheet: Any) -> str:
    return json.dumps(build_datacite(ctx, sheet), indent=2, ensure_ascii=False) + "\n"


def obsoleted(
    doc: dict[str, Any], *, replacement: str, identifier_type: str = "URN"
) -> dict[str, Any]:
    """A copy of a DataCite record with ``IsObsoletedBy`` the replacement."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    m = re.fullmatch(r"(.+)@([^@]+)", replacement)
    if identifier_type == "URN" and not replacement.lower().startswith("urn:") and m:
        replacement = release_urn(m.group(1), m.group(2))  # "dataset@version", as callers say
    rel = [r for r in out.get("relatedIdentifiers", []) if r.get("relationType") != "IsObsoletedBy"]
    rel.append(
        {
            "relatedIdentifier": replacement,
            "relatedIdentifierType": identifier_type,
            "relationType": "IsObsoletedBy",
        }
    )
    out["relatedIdentifiers"] = rel
    return out
