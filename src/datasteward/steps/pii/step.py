"""The ``pii`` step: count personal data per record, and annotate, redact or remove."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar, Literal, cast

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.steps.base import (
    EditDecision,
    Editor,
    Filter,
    FilterDecision,
    StepContext,
    StepOptions,
    StepResult,
    texts,
)
from datasteward.steps.pii.detectors import PII_TYPES, Span, find_pii, redact


@dataclass(frozen=True, kw_only=True)
class PiiOptions(StepOptions):
    """Options of ``pii``."""

    #: What to do: ``annotate`` (counts only), ``redact`` (replace each span by a typed
    #: placeholder such as ``<EMAIL>``; traced as an edit with its spans) or ``remove`` (drop
    #: records with any of the chosen kinds; reason ``pii_found``).
    mode: Literal["annotate", "redact", "remove"] = "annotate"
    #: The kinds to look for: email, phone, ip, card, iban, ssn.
    types: tuple[str, ...] = PII_TYPES
    #: The region whose national phone formats apply to numbers written without a ``+``
    #: country code (a CLDR region code, as ``phonenumbers`` takes it).
    region: str = "US"

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


def signal_name(kind: str) -> str:
    return f"pii_{kind}_count"


class Pii(Filter, Editor):
    """Detect e-mail addresses, phone numbers, public IPs, card numbers, IBANs and US SSNs.

    Signals on every record: ``pii_<kind>_count`` for each chosen kind (before any
    redaction). In ``redact`` mode the trace detail of each edited record is the JSON list of
    ``[start, end, kind]`` spans in the original text.
    """

    name: ClassVar[str] = "pii"
    Options: ClassVar[type[StepOptions]] = PiiOptions

    @property
    def opts(self) -> PiiOptions:
        return cast(PiiOptions, self.options)

    def find(self, text: str) -> list[Span]:
        """The spans of the chosen kinds in one text."""
        return find_pii(text, self.opts.types, region=self.opts.region)

    def _scan(
        self, batch: pa.RecordBatch
    ) -> tuple[list[str], list[list[Span]], dict[str, pa.Array]]:
        docs = texts(batch)
        found = [self.find(t) for t in docs]
        signals: dict[str, pa.Array] = {}
        for kind in self.opts.types:
            counts = [sum(1 for s in spans if s.type == kind) for spans in found]
            signals[signal_name(kind)] = pa.array(counts, pa.int32())
        return docs, found, signals

    # ---- annotate / remove ----------------------------------------------------------------------
    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        _, found, signals = self._scan(batch)
        n = batch.num_rows
        remove = self.opts.mode == "remove"
        keep = np.ones(n, dtype=bool)
        reason: list[str | None] = [None] * n
        value: list[float | None] = [None] * n
        detail: list[str | None] = [None] * n
        if remove:
            for i, spans in enumerate(found):
                if spans:
                    keep[i] = False
                    reason[i] = "pii_found"
                    value[i] = float(len(spans))
                    counts: dict[str, int] = {}
                    for s in spans:
                        counts[s.type] = counts.get(s.type, 0) + 1
                    detail[i] = json.dumps(counts, sort_keys=True)
        return FilterDecision(keep=keep, reason=reason, value=value, detail=detail, signals=signals)

    # ---- redact --------------------------------------------------------------------------------
    def edit(self, batch: pa.RecordBatch) -> EditDecision:
        docs, found, signals = self._scan(batch)
        n = batch.num_rows
        new_text: list[str] = []
        edited = np.zeros(n, dtype=bool)
        reason: list[str | None] = [None] * n
        detail: list[str | None] = [None] * n
        for i, (text, spans) in enumerate(zip(docs, found, strict=True)):
            if spans:
                new_text.append(redact(text, spans))
                edited[i] = True
                reason[i] = "pii_redacted"
                detail[i] = json.dumps([[s.start, s.end, s.type] for s in spans])
            else:
                new_text.append(text)
        # Keep nulls null: a record without text stays without text.
        original = batch.column("text")
        out = pa.array(
            [None if original[i].as_py() is None else t for i, t in enumerate(new_text)]
            if original.null_count
            else new_text,
            original.type,
        )
        return EditDecision(text=out, edited=edited, reason=reason, detail=detail, signals=signals)

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        if self.opts.mode == "redact":
            return Editor.process(self, batch, ctx)
        return Filter.process(self, batch, ctx)
