"""The ``pii`` step: count personal data per record, and annotate, redact or remove."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar, Literal, cast

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.records.schema import TEXT_COLUMN
from datasteward.steps.base import Filter, FilterDecision, StepCounts, StepOptions, texts
from datasteward.steps.pii.detectors import PII_TYPES, Span, find_pii, redact
from datasteward.steps.sweep import SqlPredicate, WhatIf


@dataclass(frozen=True, kw_only=True)
class PiiOptions(StepOptions):
    """Options of ``pii``."""

    #: What to do: ``annotate`` (counts only), ``redact`` (replace each span by a typed
    #: placeholder such as ``<EMAIL>``; traced as an edit with its spans) or ``remove`` (drop
    #: records with any of the chosen kinds; reason ``pii_found``).
    mode: Literal["annotate", "redact", "remove"] = "annotate"
    #: The kinds to look for: email, phone, ip, card, iban, ssn.
    types: tuple[str, ...] = PII_TYPES
    #: The region whose national phone formats apply to numbers written without a country
    #: code (a CLDR region code, as ``phonenumbers`` takes it): the one-region form of
    #: ``regions``. Numbers written with ``+`` or ``00``/``011`` and a country code are found
    #: whatever the region.
    region: str = "US"
    #: Several regions whose national formats apply, tried in order (the first that reads a
    #: candidate as a valid number wins), e.g. ``["US", "GB", "DE"]``. When set, it replaces
    #: ``region``.
    regions: tuple[str, ...] = ()

    @property
    def phone_regions(self) -> tuple[str, ...]:
        """The regions national phone formats are read for, in order."""
        return self.regions or (self.region,)

    def validate(self) -> None:
        unknown = [t for t in self.types if t not in PII_TYPES]
        if unknown or not self.types:
            raise StepError(
                f"step `pii`: option `types` has unknown or no kinds: {unknown or '[]'}",
                hint="choose among " + ", ".join(PII_TYPES),
            )
        from phonenumbers import SUPPORTED_REGIONS

        if self.region not in SUPPORTED_REGIONS:
            raise StepError(
                f"step `pii`: option `region` = {self.region!r} is not a phone region",
                hint='use a two-letter region code such as "US", "GB", "DE"',
            )
        bad = [r for r in self.regions if r not in SUPPORTED_REGIONS]
        if bad:
            raise StepError(
                f"step `pii`: option `regions` names {bad} that are not phone regions",
                hint='use two-letter region codes such as ["US", "GB", "DE"]',
            )
        if self.regions and self.region != "US" and self.region not in self.regions:
            raise StepError(
                f"step `pii`: options `region` ({self.region!r}) and `regions` "
                f"({list(self.regions)}) disagree",
                hint="set only `regions`, the list of every region to read",
            )


def signal_name(kind: str) -> str:
    return f"pii_{kind}_count"


class Pii(Filter):
    """Detect e-mail addresses, phone numbers, public IPs, card numbers, IBANs and US SSNs.

    Signals on every record: ``pii_<kind>_count`` for each chosen kind (before any
    redaction). In ``redact`` mode the trace detail of each edited record is the JSON list of
    ``[start, end, kind]`` spans in the original text; the base rehashes the redacted text.
    """

    name: ClassVar[str] = "pii"
    Options: ClassVar[type[StepOptions]] = PiiOptions
    whatif_fixed: ClassVar[tuple[str, ...]] = ("region", "regions")
    whatif_note: ClassVar[str] = (
        "mode = remove is swept; types may only name kinds the run measured"
    )

    @property
    def opts(self) -> PiiOptions:
        return cast(PiiOptions, self.options)

    def find(self, text: str) -> list[Span]:
        """The spans of the chosen kinds in one text."""
        return find_pii(text, self.opts.types, regions=self.opts.phone_regions)

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        """Count the spans; in ``remove`` mode drop records with any, in ``redact`` mode give
        their redacted text (one decision: the base traces and rehashes)."""
        docs = texts(batch)
        found = [self.find(t) for t in docs]
        signals: dict[str, pa.Array] = {}
        for kind in self.opts.types:
            counts = [sum(1 for s in spans if s.type == kind) for spans in found]
            signals[signal_name(kind)] = pa.array(counts, pa.int32())
        n = batch.num_rows
        keep = np.ones(n, dtype=bool)
        reason: list[str | None] = [None] * n
        if self.opts.mode == "annotate":
            return FilterDecision(keep=keep, reason=reason, signals=signals)
        hits = [i for i, spans in enumerate(found) if spans]
        if self.opts.mode == "redact":
            new_text: list[str | None] = list(batch.column(TEXT_COLUMN).to_pylist())
            detail: list[str | None] = [None] * n
            for i in hits:
                new_text[i] = redact(docs[i], found[i])
                detail[i] = json.dumps([[s.start, s.end, s.type] for s in found[i]])
            return FilterDecision(
                keep=keep,
                reason=reason,
                signals=signals,
                text=new_text,
                edit_reason=["pii_redacted"] * n,
                edit_detail=detail,
            )
        value: list[float | None] = [None] * n
        removed_detail: list[str | None] = [None] * n
        for i in hits:
            keep[i] = False
            reason[i] = "pii_found"
            value[i] = float(len(found[i]))
            by_kind: dict[str, int] = {}
            for sp in found[i]:
                by_kind[sp.type] = by_kind.get(sp.type, 0) + 1
            removed_detail[i] = json.dumps(by_kind, sort_keys=True)
        return FilterDecision(
            keep=keep, reason=reason, value=value, detail=removed_detail, signals=signals
        )

    # ---- what the step means, for whatif and the datasheet -------------------------------------
    def whatif_predicate(self) -> WhatIf | None:
        o = self.opts
        sql = SqlPredicate()
        if o.mode != "remove":
            return sql.never()
        return sql.any_of([f"({sql.col(signal_name(t))} > 0)" for t in o.types])

    def explain(self) -> str:
        o = self.opts
        verb = {"annotate": "counts", "redact": "redacts", "remove": "removes records with"}
        return f"{verb[o.mode]} personal data ({', '.join(o.types)})"

    def datasheet_answers(
        self, counts: StepCounts, *, records_read: int | None
    ) -> dict[tuple[str, str], str]:
        return {
            ("composition", "identification"): (
                f"The `pii` step removed {counts.removed:,} and redacted {counts.edited:,} "
                "records (e-mail addresses, phone numbers, IP addresses, card and account "
                "numbers); names are not detected."
            )
        }
