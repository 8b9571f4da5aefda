"""``rights.license_normalize``: turn the raw ``license`` column into SPDX ids, with lineage.

Sources store the licence string they read (``"by-nc 2"``, a CC URL, ``"Apache 2.0"``); this
step normalises it with :func:`datasteward.rights.licenses.normalize_license`, keeps the
original string in ``license_evidence``, and — for sources declared ``derived_from`` other
datasets — folds in the upstream terms by the most-restrictive rule: the record's licence
becomes ``<own> AND <upstream>...`` (all of them apply), or ``unknown`` when any upstream
licence is unknown. It adds ``license_use``, ``license_attribution`` and
``license_share_alike`` (the Data Provenance Initiative's classification) to every record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa

from datasteward.errors import StepError
from datasteward.rights.licenses import normalize_cached
from datasteward.rights.policy_check import TermsResolver
from datasteward.rights.terms import LicenseTerms
from datasteward.steps.base import Annotator, StepContext, StepOptions


@dataclass(frozen=True)
class LicenseNormalizeOptions(StepOptions):
    """Options of ``rights.license_normalize``."""

    #: A column with a separate licence version (``"2.0"``), if the source kept one.
    version_column: str | None = None
    #: Fold in the terms of the datasets a source is ``derived_from`` (needs the recipe).
    lineage: bool = True


class LicenseNormalize(Annotator):
    """Normalise licences to SPDX and apply licence lineage."""

    name: ClassVar[str] = "rights.license_normalize"
    Options: ClassVar[type[StepOptions]] = LicenseNormalizeOptions

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self.resolver = TermsResolver(None)

    def setup(self, ctx: StepContext) -> None:
        opts = self._opts
        if opts.lineage:
            self.resolver = TermsResolver(ctx.require_recipe(self.name))

    @property
    def _opts(self) -> LicenseNormalizeOptions:
        if not isinstance(self.options, LicenseNormalizeOptions):  # pragma: no cover
            raise StepError("rights.license_normalize: wrong options type")
        return self.options

    def annotate(self, batch: pa.RecordBatch) -> Mapping[str, pa.Array]:
        opts = self._opts
        sources = batch.column("source").to_pylist()
        licenses = batch.column("license").to_pylist()
        evidence = batch.column("license_evidence").to_pylist()
        versions: list[object] = [None] * batch.num_rows
        if opts.version_column:
            idx = batch.schema.get_field_index(opts.version_column)
            if idx < 0:
                raise StepError(
                    f"rights.license_normalize: no column `{opts.version_column}`",
                    hint="set version_column to a column the source keeps, or leave it unset",
                )
            versions = batch.column(idx).to_pylist()
        out_lic: list[str] = []
        out_ev: list[str | None] = []
        use: list[str] = []
        attribution: list[bool | None] = []
        share_alike: list[bool] = []
        for i in range(batch.num_rows):
            raw = licenses[i]
            version = None if versions[i] is None else str(versions[i])
            res = normalize_cached(raw, version)
            notes = []
            if res.spdx != raw or res.note:
                notes.append(res.evidence("normalised"))
            terms: LicenseTerms = self.resolver.terms(sources[i], res.spdx)
            up = self.resolver.upstream_terms(sources[i])
            if up is not None:
                notes.append(f"lineage: upstream {up.license} ({up.use}) -> {terms.license}")
            out_lic.append(terms.license if up is not None else res.spdx)
            prev = evidence[i]
            out_ev.append("; ".join([p for p in (prev, *notes) if p]) or None)
            use.append(terms.use)
            attribution.append(terms.attribution)
            share_alike.append(terms.share_alike)
        return {
            "license": pa.array(out_lic, pa.string()),
            "license_evidence": pa.array(out_ev, pa.string()),
            "license_use": pa.array(use, pa.string()),
            "license_attribution": pa.array(attribution, pa.bool_()),
            "license_share_alike": pa.array(share_alike, pa.bool_()),
        }
