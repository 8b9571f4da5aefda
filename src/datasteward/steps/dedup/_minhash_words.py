"""The words of a batch of texts exactly as datatrove's MinHash sees them (private to dedup).

datatrove's ``MinhashDedupSignature.get_shingles`` takes
``spacy_en.word_tokenize(simplify_text(text))``: lower case, numbers folded to ``0``, the
characters of its ``PUNCTUATION`` string turned into spaces, white space collapsed, diacritics
removed (NFD, combining marks dropped); then spaCy's blank English tokeniser, which splits
on spaces and peels prefixes, suffixes and special cases (``cannot`` -> ``can not``,
``0km`` -> ``0 km``, ``gonna`` -> ``gon na``; symbols it does not remove, such as ``£``, ``‘``
or ``•``, become words of their own).

Every step of that is local to a white-space-delimited piece of the raw text (none of the
rules looks across white space), so the words of a text are the concatenation of the words
of its raw tokens. Here each *distinct* raw token is simplified and split once per process
(a bounded cache; tokens repeat a great deal) with the same rules: a copy of datatrove's
normalisation, and spaCy's English tokeniser as :func:`datasteward.steps.text._tokenize.split_chunk`
implements it (spaCy's rules as data, checked against spaCy by tests/fidelity). The batch's
token sequence is then expanded with numpy. ``tests/steps/dedup/test_minhash.py`` checks that
the resulting signatures are bit-identical to datatrove's on real C4 documents.

With ``split_no_space_scripts`` every character of a script written without spaces (Han,
kana, Thai, Lao, Khmer, Myanmar) becomes a word of its own (datatrove's English tokeniser
keeps a run of them as one word); records without such characters are not affected.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.steps.text import split_chunk

# datatrove.utils.text.PUNCTUATION (datatrove 0.10, Apache-2.0, Copyright HuggingFace): the
# characters simplify_text turns into spaces. Copied so that the library does not need
# datatrove at run time; the differential test fails if datatrove changes it.
PUNCTUATION = (
    "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
    + "".join(chr(x) for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b))
)
_PUNCT_TRANS = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
# datatrove's NUMBERS_PATTERN is ``\p{Nd}+([.,،٫⎖⎗⎘]{1}\p{Nd}+)?`` (``regex`` module); for
# ``str`` patterns Python's ``\d`` is exactly the Unicode decimal digits (category Nd).
_NUMBERS = re.compile(r"\d+(?:[.,،٫⎖⎗⎘]\d+)?")
_WHITESPACE = re.compile(r"\s+")
_NO_SPACE_SCRIPT = re.compile(
    "([\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\u3040-\u309f"
    "\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f])"
)
#: Distinct raw tokens whose words are cached per process (cleared when full).
_CACHE_SIZE = 1 << 19


def simplify_text(text: str) -> str:
    """datatrove's ``simplify_text`` with its default ``TextNormConfig``."""
    text = text.lower()
    text = _NUMBERS.sub("0", text)
    text = text.translate(_PUNCT_TRANS)
    text = _WHITESPACE.sub(" ", text.strip())
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
        )
    return text.strip()


def words_of(raw: str, *, split_no_space_scripts: bool) -> tuple[str, ...]:
    """The words datatrove's MinHash takes from one raw (white-space-free) token."""
    out: list[str] = []
    for chunk in simplify_text(raw).split():
        out.extend(split_chunk(chunk))
    if split_no_space_scripts and not all(w.isascii() for w in out):
        out = [p for w in out for p in _NO_SPACE_SCRIPT.split(w) if p]
    return tuple(out)


class _Cache(dict[str, bytes]):
    """Raw token -> its words, each followed by one space, as UTF-8."""

    def __init__(self, *, split_no_space_scripts: bool) -> None:
        super().__init__()
        self.split_no_space_scripts = split_no_space_scripts

    def __missing__(self, raw: str) -> bytes:
        if len(self) >= _CACHE_SIZE:
            self.clear()
        ws = words_of(raw, split_no_space_scripts=self.split_no_space_scripts)
        found = "".join(w + " " for w in ws).encode("utf-8")
        self[raw] = found
        return found


_CACHES = {flag: _Cache(split_no_space_scripts=flag) for flag in (False, True)}


@dataclass(frozen=True)
class Words:
    """The words of a batch: word ``j`` is ``buffer[offsets[j] : offsets[j + 1] - 1]`` (each
    word is followed by one space in ``buffer``); record ``i`` has the words
    ``record_offsets[i] .. record_offsets[i + 1] - 1``."""

    buffer: np.ndarray  # uint8
    offsets: np.ndarray  # int64, len = words + 1
    record_offsets: np.ndarray  # int64, len = records + 1


def batch_words(text: pa.Array, *, split_no_space_scripts: bool) -> Words:
    """Split every text of ``text`` into datatrove's MinHash words (see the module doc)."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not pa.types.is_large_string(text.type):
        text = text.cast(pa.large_string())
    text = pc.fill_null(text, "")
    # raw tokens: split on ASCII white space here; any other white space inside a token is
    # handled by simplify_text, exactly as on the whole text
    tokens = pc.ascii_split_whitespace(text)
    if isinstance(tokens, pa.ChunkedArray):
        tokens = tokens.combine_chunks()
    tok_off = tokens.offsets.to_numpy().astype(np.int64)
    tok_off -= tok_off[0]
    enc = pc.dictionary_encode(tokens.flatten())
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    if len(enc) == 0:
        return Words(
            buffer=np.zeros(0, dtype=np.uint8),
            offsets=np.zeros(1, dtype=np.int64),
            record_offsets=np.zeros(len(tok_off), dtype=np.int64),
        )
    cache = _CACHES[split_no_space_scripts]
    found = list(map(cache.__getitem__, enc.dictionary.to_pylist()))
    # the raw tokens' words in text order, each word followed by one space: a word ends at
    # every space of the buffer (words never contain spaces)
    seq = pa.array(found, pa.large_binary()).take(enc.indices)
    _, off_buf, data = seq.buffers()
    ends = np.frombuffer(off_buf, dtype=np.int64)[seq.offset : seq.offset + len(seq) + 1]
    base, stop = int(ends[0]), int(ends[-1])
    buffer = (
        np.frombuffer(data, dtype=np.uint8)[base:stop]
        if data is not None
        else np.zeros(0, dtype=np.uint8)
    )
    spaces = np.flatnonzero(buffer == 32)
    offsets = np.concatenate([[0], spaces + 1]).astype(np.int64)
    # record i spans raw tokens tok_off[i] .. tok_off[i+1]-1, i.e. bytes from
    # ends[tok_off[i]]; its first word is the number of words (spaces) before that byte
    rec_bytes = ends[tok_off] - base
    record_offsets = np.searchsorted(spaces, rec_bytes, side="left").astype(np.int64)
    return Words(buffer=buffer, offsets=offsets, record_offsets=record_offsets)
