"""``rights.license_detect``: find a web page's licence in its HTML and HTTP headers.

Evidence, strongest first: ``Link: <...>; rel="license"`` response headers, ``rel="license"``
links, licence meta tags, Creative Commons badge images — and, weak, plain links to a CC
licence (on most pages those credit an embedded photo, not the page: creativecommons.org's own
home page links CC BY 2.0, CC BY 3.0, CC BY 4.0 and CC BY-NC-SA 4.0).

Precedence: a licence the source gave the record (a licence field, or the source's declared
``license``) is never overridden; only records whose ``license`` is ``unknown`` are set, and only
when the strong evidence agrees on one licence (or, with ``use_plain_links``, when the plain
CC links do). Conflicting evidence leaves the record ``unknown``. Every record checked gets a
``license_signals`` column (JSON list of what was found, resolved or not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urljoin

import orjson
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.rights.headers import (
    column_or_none,
    headers_from_metadata,
    license_links,
    parse_metadata,
    record_html,
)
from datasteward.rights.html import Evidence, parse_page
from datasteward.rights.licenses import UNKNOWN, normalize_cached
from datasteward.steps.base import Annotator, StepOptions

SIGNALS_COLUMN = "license_signals"


@dataclass(frozen=True)
class LicenseDetectOptions(StepOptions):
    """Options of ``rights.license_detect``."""

    #: Also accept plain links to one Creative Commons licence when no strong evidence exists.
    use_plain_links: bool = False
    #: Look only at records whose licence is ``unknown`` (the others cannot change).
    only_unknown: bool = True
    #: The column holding the raw HTML (``metadata["html"]`` is the fallback).
    html_column: str = "html"


@dataclass(frozen=True)
class Detection:
    license: str | None
    evidence: str | None
    signals: list[dict[str, object]]


def detect(
    html: str | None,
    headers: list[tuple[str, str]],
    url: str | None,
    *,
    use_plain_links: bool = False,
) -> Detection:
    """The licence a page states about itself, from its headers and HTML."""
    found: list[Evidence] = [
        Evidence("link-header", urljoin(url or "", target), "strong")
        for target in license_links(headers)
    ]
    if html:
        found.extend(parse_page(html, url).license)
    signals: list[dict[str, object]] = []
    strong: dict[str, list[Evidence]] = {}
    weak: dict[str, list[Evidence]] = {}
    for ev in found:
        res = normalize_cached(ev.value)
        signals.append(
            {"kind": ev.kind, "value": ev.value, "strength": ev.strength, "spdx": res.spdx}
        )
        if res.resolved:
            (strong if ev.strength == "strong" else weak).setdefault(res.spdx, []).append(ev)
    chosen = strong or (weak if use_plain_links else {})
    if len(chosen) == 1:
        spdx, evs = next(iter(chosen.items()))
        kinds = ", ".join(sorted({e.kind for e in evs}))
        return Detection(spdx, f"page evidence ({kinds}): {evs[0].value} -> {spdx}", signals)
    if len(chosen) > 1:
        listed = "; ".join(f"{k} ({v[0].kind})" for k, v in sorted(chosen.items()))
        return Detection(None, f"conflicting page evidence, left unknown: {listed}", signals)
    return Detection(None, None, signals)


class LicenseDetect(Annotator):
    """Set ``license`` from page evidence on records whose licence is unknown."""

    name: ClassVar[str] = "rights.license_detect"
    Options: ClassVar[type[StepOptions]] = LicenseDetectOptions

    def annotate(self, batch: pa.RecordBatch) -> Mapping[str, pa.Array]:
        opts = self.options
        if not isinstance(opts, LicenseDetectOptions):  # pragma: no cover
            raise StepError("rights.license_detect: wrong options type")
        licenses = batch.column("license").to_pylist()
        evidence = batch.column("license_evidence").to_pylist()
        uris = batch.column("source_uri").to_pylist()
        metas = column_or_none(batch, "metadata")
        html_col = column_or_none(batch, opts.html_column)
        signals: list[str | None] = [None] * batch.num_rows
        for i in range(batch.num_rows):
            if opts.only_unknown and licenses[i] != UNKNOWN:
                continue
            meta = parse_metadata(metas[i]) if metas is not None else {}
            det = detect(
                record_html(html_col, meta, i),
                headers_from_metadata(meta),
                uris[i],
                use_plain_links=opts.use_plain_links,
            )
            if det.signals:
                signals[i] = orjson.dumps(det.signals).decode()
            if licenses[i] == UNKNOWN and det.evidence is not None:
                if det.license is not None:
                    licenses[i] = det.license
                previous = evidence[i]
                evidence[i] = det.evidence if not previous else f"{det.evidence}; was: {previous}"
        return {
            "license": pa.array(licenses, pa.string()),
            "license_evidence": pa.array(evidence, pa.string()),
            SIGNALS_COLUMN: pa.array(signals, pa.string()),
        }
