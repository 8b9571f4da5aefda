"""The C4 bad-words filter (Raffel et al. 2020): remove documents that contain a listed word.

The list is a file the recipe names (``words_file``: one term per line, UTF-8). C4 used the
LDNOOBW English list at commit 25e679f; the project does not ship it. Matching is C4's
(TFDS ``c4_utils`` and datatrove's ``C4BadWordsFilter``): on the lower-cased text, a term
matches where it is flanked by non-word characters or the ends of the text. The trace names
the first matched term (by position) and how many distinct terms matched; the signal
``c4_badwords_terms`` is that number on every record.

Implementation: a batch is first screened with one RE2 expression (Arrow's
``match_substring_regex``, a linear-time automaton) holding every term between boundaries
that are looser than C4's (RE2's ``\\w`` is ASCII only), so it passes every document that
has a match and a few more. Only those are searched exactly: terms made only of word
characters match exactly the lower-cased text's maximal runs of word characters, so they are
found with one ``\\w+`` scan and a set lookup; the other terms (phrases, ``s&m``, emoji) are
located by substring search and confirmed with the boundary pattern. The screen removes the
exact search from the ~97% of web documents without a bad word (test_text_badwords checks
that it never drops a document the exact search would match).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import StepError
from datasteward.steps.base import Filter, FilterDecision, StepContext, StepOptions, texts

_WORD_RUN = re.compile(r"\w+")


@dataclass(frozen=True)
class BadWordsOptions(StepOptions):
    """Options of ``c4.badwords``."""

    #: The word list: one term per line (blank lines ignored). Relative paths resolve against
    #: the recipe's folder. C4 used LDNOOBW ``en`` at commit 25e679f.
    words_file: str
    #: Keep this fraction of the documents that contain a bad word (datatrove's
    #: ``keep_fraction``), chosen by a hash of the record id so runs are repeatable. 0 keeps none.
    keep_fraction: float = 0.0

    def validate(self) -> None:
        if not 0.0 <= self.keep_fraction <= 1.0:
            raise StepError(
                f"c4.badwords: `keep_fraction` must be between 0 and 1, got {self.keep_fraction}"
            )


#: Our reason code -> datatrove 0.10's.
BADWORDS_REASONS: dict[str, str] = {"badword": "document_removed_with_badwords"}


class BadWordsMatcher:
    """Finds C4 bad words in a text (see the module docstring)."""

    def __init__(self, terms: list[str]) -> None:
        self.words = frozenset(t for t in terms if _WORD_RUN.fullmatch(t))
        others = sorted({t for t in terms if t not in self.words})
        self.others = tuple(others)
        # a phrase can only match if its first run of word characters is one of the text's
        # runs (the boundary rule makes it a whole run); None: the term starts otherwise
        self._first_run = {
            t: (m.group() if (m := _WORD_RUN.match(t)) is not None else None) for t in others
        }
        self._other_re = {t: re.compile(r"(?:\W|^)(" + re.escape(t) + r")(?:\W|$)") for t in others}
        terms_re2 = "|".join(_re2_literal(t) for t in sorted(self.words | set(others)))
        #: The screen (RE2 syntax), or None without terms.
        self.screen = rf"(?:^|[^\w])(?:{terms_re2})(?:[^\w]|$)" if terms_re2 else None

    @classmethod
    def from_file(cls, path: Path) -> BadWordsMatcher:
        raw = path.read_text(encoding="utf-8")
        return cls([t for t in (line.strip() for line in raw.splitlines()) if t])

    def candidates(self, lowered: list[str]) -> np.ndarray:
        """Which lower-cased texts may hold a term (a superset of those :meth:`find` matches
        in): the positions, in order."""
        if self.screen is None or not lowered:
            return np.zeros(0, dtype=np.int64)
        hits = pc.match_substring_regex(pa.array(lowered, pa.large_string()), self.screen)
        return np.flatnonzero(hits.to_numpy(zero_copy_only=False))

    def find(self, text: str) -> list[tuple[int, str]]:
        """Distinct matched terms with their first position, in order of position."""
        low = text.lower()
        found: dict[str, int] = {}
        runs = set(_WORD_RUN.findall(low))
        hit = self.words & runs
        if hit:
            for m in _WORD_RUN.finditer(low):
                w = m.group()
                if w in hit and w not in found:
                    found[w] = m.start()
        for t in self.others:
            first = self._first_run[t]
            if (first is None or first in runs) and t in low:
                hit_at = self._other_re[t].search(low)
                if hit_at is not None:
                    found[t] = hit_at.start(1)
        return sorted(((pos, t) for t, pos in found.items()))


def _re2_literal(term: str) -> str:
    """``term`` as an RE2 literal: letters and digits as they are, anything else escaped by
    code point."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in term)


def _resolve(words_file: str, recipe_dir: Path) -> Path:
    p = Path(words_file).expanduser()
    return p if p.is_absolute() else recipe_dir / p


class BadWordsFilter(Filter):
    """``c4.badwords``: remove documents containing a term of the named word list."""

    name = "c4.badwords"
    Options = BadWordsOptions
    options: BadWordsOptions
    whatif_unsupported: ClassVar[str] = (
        "the decision depends on the word list (re-measure) and keep_fraction draws by a hash "
        "of the id; re-run the step instead"
    )

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self._matcher: BadWordsMatcher | None = None
        self._recipe_dir = Path.cwd()

    def check(self, recipe_dir: Path) -> None:
        o = self.options
        path = _resolve(o.words_file, recipe_dir)
        if not path.is_file():
            raise StepError(
                f"c4.badwords: the word list `{o.words_file}` does not exist (looked at {path})",
                hint="set `words_file` to a file with one term per line, relative to the recipe; "
                "C4 used LDNOOBW `en` at commit 25e679f",
            )
        self._recipe_dir = recipe_dir

    def setup(self, ctx: StepContext) -> None:
        self._recipe_dir = ctx.recipe_dir
        self._matcher = None

    @property
    def matcher(self) -> BadWordsMatcher:
        if self._matcher is None:
            o = self.options
            self.check(self._recipe_dir)
            path = _resolve(o.words_file, self._recipe_dir)
            try:
                self._matcher = BadWordsMatcher.from_file(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise StepError(
                    f"c4.badwords: cannot read the word list {path}: {exc}",
                    hint="it must be a UTF-8 text file with one term per line",
                ) from None
        return self._matcher

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        o = self.options
        matcher = self.matcher
        docs = texts(batch)
        n = len(docs)
        keep = np.ones(n, dtype=bool)
        reason: list[str | None] = [None] * n
        detail: list[str | None] = [None] * n
        value: list[float | None] = [None] * n
        hits = np.zeros(n, dtype=np.int64)
        ids = batch.column("id").to_pylist() if o.keep_fraction > 0 else None
        for i in matcher.candidates([t.lower() for t in docs]).tolist():
            text = docs[i]
            found = matcher.find(text)
            hits[i] = len(found)
            if not found:
                continue
            if ids is not None and _lottery(ids[i]) < o.keep_fraction:
                continue
            keep[i] = False
            reason[i] = "badword"
            value[i] = float(len(found))
            terms = [t for _, t in found]
            more = f" (+{len(terms) - 1} more: {', '.join(terms[1:6])})" if len(terms) > 1 else ""
            detail[i] = f"matched {terms[0]!r} at char {found[0][0]}{more}"
        return FilterDecision(
            keep=keep,
            reason=reason,
            value=value,
            threshold=[0.0 if r else None for r in reason],
            detail=detail,
            signals={"c4_badwords_terms": pa.array(hits)},
        )


def _lottery(record_id: str) -> float:
    h = hashlib.blake2b(record_id.encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64
