"""``croissant.json``: Croissant 1.1 JSON-LD (MLCommons) with the Responsible-AI vocabulary.

The distribution lists every data shard as a ``cr:FileObject`` with its sha256, plus a
``cr:FileSet`` over ``data/*.parquet``; one ``cr:RecordSet`` (``records``) has a field per
column, read from the Parquet columns. RAI properties (``rai:dataCollection``,
``rai:dataBiases``, ``rai:personalSensitiveInformation``, ``rai:dataLimitations``...) are
filled from the same answers as the datasheet. Validated in the tests with ``mlcroissant``.

``license`` is true for the whole release: the one licence's URL, or, when records differ, the
URL of each licence plus a ``CreativeWork`` saying that licences are per record (each record
is under one of them; the ``license`` column, NOTICE.md), counting the records whose licence
is unknown or has no URL (``LicenseRef-``); one licence without a URL is such a
``CreativeWork`` alone. ``citeAs`` is
BibTeX (creators, year, version, URL). Without ``[dataset] homepage`` the ``url`` is a
placeholder under ``https://example.invalid/`` and the release logs a warning.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pyarrow as pa

from datasteward.records import schema as columns
from datasteward.release.documents.context import ReleaseContext
from datasteward.release.documents.kind import collection_types

log = logging.getLogger(__name__)

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
SD_VERSION = "1.1"
PLACEHOLDER_URL = "https://example.invalid/"
RAI_CONFORMS_TO = "http://mlcommons.org/croissant/RAI/1.0"

#: The @context of Croissant 1.1 as mlcroissant writes it (mlcroissant/_src/core/rdf.py).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

PARQUET = "application/x-parquet"

#: How a links-only release says what it is, in its description.
LINKS_ONLY_NOTE = (
    "Links-only release: the records hold URLs, content hashes and metadata, not the content. "
    "Fetch the pages with `datasteward fetch` (or `datasteward.fetch_links()`), which keeps only "
    "pages whose sha256 matches payload_sha256 (the page as served) or, when that is unknown, "
    "whose re-extracted text matches content_sha256 (no step edited a published record's "
    "text, so it is also the hash at ingest)."
)


def data_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "sc:Boolean"
    if pa.types.is_integer(t):
        return "sc:Integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "sc:Float"
    if pa.types.is_timestamp(t):
        return "sc:DateTime"
    if pa.types.is_date(t):
        return "sc:Date"
    return "sc:Text"


def _sheet_text(sheet: Any, section: str, key: str) -> str | None:
    if sheet is None:
        return None
    text: str = sheet.text(section, key)
    return text or None


def render_croissant(ctx: ReleaseContext, sheet: Any) -> str:
    base = ctx.homepage.rstrip("/") + f"/releases/{ctx.version}/" if ctx.homepage else ""
    distribution: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": f.path,
            "name": f.path,
            "description": f"Data shard ({f.rows} records).",
            "contentUrl": base + f.path,
            "contentSize": f"{f.bytes} B",
            "encodingFormat": PARQUET,
            "sha256": f.sha256,
        }
        for f in ctx.data_files
    ]
    distribution.append(
        {
            "@type": "cr:FileSet",
            "@id": "parquet-shards",
            "name": "parquet-shards",
            "description": "All data shards of the release.",
            "encodingFormat": PARQUET,
            "includes": "data/*.parquet",
        }
    )
    fields = [
        {
            "@type": "cr:Field",
            "@id": f"records/{field.name}",
            "name": field.name,
            "description": (field.metadata or {}).get(b"description", b"").decode()
            or _field_description(field.name),
            "dataType": data_type(field.type),
            "source": {"fileSet": {"@id": "parquet-shards"}, "extract": {"column": field.name}},
        }
        for field in ctx.schema
    ]
    licenses: dict[str, int] = dict(sheet.facts.licenses) if sheet is not None else {}
    info = ctx.recipe.dataset if ctx.recipe is not None else None
    url = ctx.homepage or placeholder_url(ctx)
    for note in document_warnings(ctx):
        log.warning("%s", note)
    creators = [
        {"@type": "sc:Person", "name": s.name, **({"email": s.email} if s.email else {})}
        for s in ctx.stewards
        if s.name
    ] or [{"@type": "sc:Organization", "name": "unknown"}]
    description = ctx.description or f"{ctx.dataset}, released with datasteward."
    records_description = "One record per document, with its provenance and signals."
    if ctx.links_only:
        description += " " + LINKS_ONLY_NOTE
        records_description = (
            "One record per document: its URL, content hashes, provenance and signals; the "
            "content is not included (links-only release)."
        )
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": [CONFORMS_TO, RAI_CONFORMS_TO],
        "name": ctx.dataset,
        "description": description,
        "version": ctx.version,
        "datePublished": ctx.created_at[:10],
        "sdVersion": SD_VERSION,
        "url": url,
        "license": croissant_license(licenses),
        "creator": creators,
        "publisher": creators[:1],
        "citeAs": bibtex(ctx, url=base or url),
        "isLiveDataset": False,
        "distribution": distribution,
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": "records",
                "name": "records",
                "description": records_description,
                "key": {"@id": "records/id"},
                "field": fields,
            }
        ],
    }
    rai = {
        "rai:dataCollection": _sheet_text(sheet, "collection", "how"),
        "rai:dataCollectionType": collection_types(ctx),
        "rai:dataCollectionTimeframe": (
            [sheet.facts.retrieved_min, sheet.facts.retrieved_max]
            if sheet is not None and sheet.facts.retrieved_min
            else None
        ),
        "rai:dataPreprocessingProtocol": _sheet_text(sheet, "preprocessing", "done"),
        "rai:dataManipulationProtocol": _sheet_text(sheet, "preprocessing", "software"),
        "rai:dataBiases": _sheet_text(sheet, "uses", "risks"),
        "rai:dataLimitations": _sheet_text(sheet, "composition", "missing")
        or _sheet_text(sheet, "composition", "sampling"),
        "rai:personalSensitiveInformation": "; ".join(
            x
            for x in (
                _sheet_text(sheet, "composition", "sensitive"),
                _sheet_text(sheet, "composition", "identification"),
                _sheet_text(sheet, "composition", "people"),
            )
            if x
        )
        or None,
        "rai:dataUseCases": _sheet_text(sheet, "uses", "intended"),
        "rai:dataSocialImpact": _sheet_text(sheet, "collection", "impact_analysis"),
        "rai:dataReleaseMaintenancePlan": _sheet_text(sheet, "maintenance", "updates")
        or _sheet_text(sheet, "maintenance", "older_versions"),
    }
    if info is not None and info.language:
        doc["inLanguage"] = list(info.language)
    if info is not None and info.keywords:
        doc["keywords"] = list(info.keywords)
    if ctx.recipe is not None and ctx.recipe.annotations:
        from datasteward.annotations.summary import rai_fields  # measured from the label files

        rai.update(rai_fields(ctx.recipe, ctx.project))
    doc.update({k: v for k, v in rai.items() if v})
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def placeholder_url(ctx: ReleaseContext) -> str:
    return PLACEHOLDER_URL + re.sub(r"[^A-Za-z0-9._-]+", "-", ctx.dataset)


def document_warnings(ctx: ReleaseContext) -> list[str]:
    """What the stewards should fix in the metadata (logged, and in the release summary)."""
    if ctx.homepage:
        return []
    return [
        f"croissant.json: [dataset] homepage is not set, so the dataset's url is the "
        f"placeholder {placeholder_url(ctx)}; set homepage in datasteward.toml to where the "
        'release is served (e.g. homepage = "https://example.org/my-dataset")'
    ]


def croissant_license(licenses: dict[str, int]) -> str | list[str | dict[str, Any]]:
    """The dataset-level ``license``: true for every record (see the module docstring)."""
    from datasteward.rights.notice import license_url

    urls = {x: license_url(x) for x in sorted(licenses)}
    if len(urls) == 1 and all(urls.values()):
        return str(next(iter(urls.values())))
    out: list[str | dict[str, Any]] = [*sorted({u for u in urls.values() if u})]
    without = {x: n for x, n in licenses.items() if not urls.get(x)}
    unknown = without.get("unknown", 0)
    named = [x for x in sorted(without) if x != "unknown"]
    detail = "; ".join(
        ([f"{unknown:,} records have an unknown licence"] if unknown else [])
        + ([f"licences without a public URL: {', '.join(named)}"] if named else [])
    )
    if len(licenses) != 1:  # several licences, or none measured
        out.append(
            {
                "@type": "sc:CreativeWork",
                "name": "Licence per record",
                "description": "Licences differ by record (each record is under one of "
                "these, not all of them): each record's licence is in the `license` field of "
                "`records` (SPDX id, or unknown); NOTICE.md lists whom to credit."
                + (f" {detail}." if detail else ""),
            }
        )
    elif without:  # one licence, with no public URL (unknown, LicenseRef-...)
        out.append(
            {
                "@type": "sc:CreativeWork",
                "name": "Licence unknown" if unknown else named[0],
                "description": f"{detail[:1].upper()}{detail[1:]}: see the `license` field of "
                "`records` and NOTICE.md.",
            }
        )
    return out


def _bib(value: str) -> str:
    """A BibTeX field value: braces balanced, backslashes dropped."""
    value = value.replace("\\", " ")
    return value if value.count("{") == value.count("}") else re.sub(r"[{}]", "", value)


def bibtex(ctx: ReleaseContext, *, url: str) -> str:
    """``citeAs``: a BibTeX ``@misc`` entry (creators, title, year, version, URL)."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{ctx.dataset}_{ctx.version}").strip("_") or "dataset"
    authors = " and ".join(_bib(s.name) for s in ctx.stewards if s.name)
    fields = [
        ("title", f"{{{_bib(ctx.dataset)}}}"),
        ("author", authors),
        ("year", ctx.created_at[:4]),
        ("version", ctx.version),
        ("url", url),
        ("note", f"Released with datasteward on {ctx.created_at[:10]}"),
    ]
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
    return f"@misc{{{key},\n{body}\n}}"


_DESCRIPTIONS = {
    columns.ID: "Stable record id (source:value).",
    columns.SOURCE: "Name of the source in the recipe.",
    columns.SOURCE_URI: "Where the content came from (e.g. the page URL).",
    columns.RETRIEVED_AT: "When the content was retrieved.",
    columns.CONTENT_SHA256: "sha256 of the text as stored in this release (UTF-8): a step that "
    "edited the text (e.g. PII redaction, C4's line removal) rehashed it.",
    columns.SOURCE_CONTENT_SHA256: "sha256 of the content at ingest (the extracted text, UTF-8, "
    "before any step edited it); equal to content_sha256 for records no step edited.",
    "payload_sha256": "sha256 of the page as served (HTTP body without transfer or content "
    "encoding), when known.",
    columns.LICENSE: "SPDX licence id, or unknown.",
    columns.LICENSE_EVIDENCE: "Where the licence was found.",
    columns.CONSENT: "How the right to use the content is known.",
    columns.ATTRIBUTION: "Whom the licence says to credit.",
    columns.TEXT: "The content.",
    "metadata": "Other fields of the source record, as JSON.",
}


def _field_description(name: str) -> str:
    return _DESCRIPTIONS.get(name, f"Signal `{name}` measured by a step.")
