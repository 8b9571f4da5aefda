"""One fast word tokeniser shared by the text rules, and a vocabulary of per-token features.

The published rules count words with a word tokeniser; datatrove uses spaCy's blank English
tokeniser, and running spaCy once per rule is what makes those filters slow. Here the same
algorithm (spaCy's ``Tokenizer.explain``: split on white space, then peel prefixes and
suffixes, special cases, URLs, infixes) runs over spaCy's English rules, copied as data into
:mod:`._spacy_en`, with two caches that make it fast:

* each white-space-delimited chunk is split once per process (chunks repeat a great deal:
  "the", "it's", "(see"), and its token ids are kept;
* a document's ids are kept for the last few thousand texts, so consecutive rules over the
  same text (gopher.repetition then gopher.quality) share one tokenisation.

Where the result differs from spaCy's (spaCy's "special matcher" pass for exceptions that
sit inside a longer chunk, e.g. an emoticon glued to a bracket), docs/steps/quality-filters.md
gives the measured effect.

Tokens map to integer ids in a process-wide :class:`Vocabulary` whose per-token features
(length, all-punctuation, has a letter, sentence punctuation) are computed once per distinct
token, so the rules work on numpy arrays rather than Python strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np

from datasteward.steps.text._spacy_en import INFIX, PREFIX, SPECIAL_CASES, SUFFIX, URL

# The punctuation set of datatrove.utils.text (PUNCTUATION + TERMINAL_PUNCTUATION), which the
# Gopher rules use to tell "symbol" words from words. Copied so that the library does not
# depend on datatrove at run time; tests/fidelity checks that it is still identical.
_PUNCTUATION = (
    "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
    + "".join(chr(x) for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b))
)

# spaCy's Sentencizer.default_punct_chars (spaCy 3.x): a token equal to one of these ends a
# sentence when a non-punctuation token follows.
SENTENCE_PUNCT = frozenset(
    "!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？𐩖𐩗"
    "𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑩂𑩃𑪛𑪜𑱁𑱂𖩮𖩯𖫵𖬷𖬸𖭄𛲟𝪈｡。"
)

# The terminal punctuation of datatrove.utils.text.TERMINAL_PUNCTUATION (FineWeb's line-end
# characters): spaCy's sentence punctuation plus a few more.
TERMINAL_PUNCTUATION = SENTENCE_PUNCT | frozenset(
    "\u061d\u061e\u0837\u0839\u083d\u083e\u17d4\u17d5\u17d6\u17d9\u17da\u1b7d\u1b7e\u2e53\u2e54"
    "\U00010f55\U00010f56\U00010f57\U00010f58\U00010f59\U00010f86\U00010f87\U00010f88"
    "\U00010f89\U00011944\U00011946\U00011ef7\U00011ef8\U00011f43\U00011f44\U00016e98"
)


def _is_symbol(token: str) -> bool:
    return all(ch in _PUNCTUATION_SET for ch in token)


_PUNCTUATION_SET = frozenset(_PUNCTUATION) | TERMINAL_PUNCTUATION


def is_unicode_punct(token: str) -> bool:
    """spaCy's ``is_punct``: every character is in a Unicode punctuation category."""
    return all(unicodedata.category(ch).startswith("P") for ch in token)


class Vocabulary(dict[str, int]):
    """Token -> id, with per-id features computed once per distinct token.

    ``length``: characters; ``symbol``: every character is punctuation (Gopher's symbol
    words); ``alpha``: has a letter; ``sent_punct``: ends a sentence (spaCy sentencizer);
    ``punct``: Unicode punctuation only. The vocabulary is cleared when it passes
    ``max_size`` distinct tokens (ids are only ever compared within one document).
    """

    _FEATURES = ("length", "symbol", "alpha", "sent_punct", "punct")

    def __init__(self, max_size: int = 2_000_000) -> None:
        super().__init__()
        self.max_size = max_size
        #: Bumped whenever the vocabulary is cleared: ids from an older generation are void.
        self.generation = 0
        self._new: list[str] = []
        self._n = 0  # tokens with features
        self._buf = {
            "length": np.zeros(1024, dtype=np.int64),
            **{name: np.zeros(1024, dtype=bool) for name in self._FEATURES[1:]},
        }
        self._views()

    def _views(self) -> None:
        # the feature arrays, indexed by id (views into buffers that grow by doubling)
        self.length: np.ndarray = self._buf["length"][: self._n]
        self.symbol: np.ndarray = self._buf["symbol"][: self._n]
        self.alpha: np.ndarray = self._buf["alpha"][: self._n]
        self.sent_punct: np.ndarray = self._buf["sent_punct"][: self._n]
        self.punct: np.ndarray = self._buf["punct"][: self._n]

    def __missing__(self, token: str) -> int:
        i = len(self)
        self[token] = i
        self._new.append(token)
        return i

    def reset(self) -> None:
        """Forget every token (ids of the old generation become void)."""
        self.clear()
        self.generation += 1
        self._new.clear()
        self._n = 0
        self._views()

    def flush(self) -> None:
        """Compute the features of the tokens added since the last flush."""
        if self._new:
            self._add_features(self._new)
            self._new = []

    def ids(self, tokens: Iterable[str]) -> np.ndarray:
        """The ids of some tokens (int64), adding new ones with their features."""
        out = np.fromiter(map(self.__getitem__, tokens), dtype=np.int64)
        self.flush()
        return out

    def _add_features(self, new: list[str]) -> None:
        k = len(new)
        end = self._n + k
        cap = len(self._buf["length"])
        if end > cap:
            while cap < end:
                cap *= 2
            for name, arr in self._buf.items():
                grown = np.zeros(cap, dtype=arr.dtype)
                grown[: self._n] = arr[: self._n]
                self._buf[name] = grown
        lo = self._n
        for name, values in token_features(new).items():
            self._buf[name][lo:end] = values
        self._n = end
        self._views()


# ---- per-character classes, for the features of many tokens at once ----------------------
_KNOWN, _SYM, _ALPHA, _PUNCT, _SENT = 1, 2, 4, 8, 16
#: Class bits per code point (0: not looked at yet), filled in as characters are met.
_CHAR_CLASS = np.zeros(0x110000, dtype=np.uint8)


def _char_bits(ch: str) -> int:
    return (
        _KNOWN
        | (_SYM if ch in _PUNCTUATION_SET else 0)
        | (_ALPHA if ch.isalpha() else 0)
        | (_PUNCT if unicodedata.category(ch).startswith("P") else 0)
        | (_SENT if ch in SENTENCE_PUNCT else 0)
    )


def token_features(tokens: list[str]) -> dict[str, np.ndarray]:
    """The :class:`Vocabulary` features of some tokens, computed over all their characters at
    once (numpy over code points) instead of one Python loop per token and feature.

    Equal, token by token, to ``len(t)``, ``all(c in punctuation for c in t)``,
    ``any(c.isalpha() for c in t)``, ``t in SENTENCE_PUNCT`` and :func:`is_unicode_punct`
    (test_text_tokenize checks it on every token of the shared web text).
    """
    k = len(tokens)
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=k)
    cps = np.frombuffer("".join(tokens).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    bits = _CHAR_CLASS[cps]
    unknown = bits == 0
    if unknown.any():
        for cp in np.flatnonzero(np.bincount(cps[unknown])).tolist():
            _CHAR_CLASS[cp] = _char_bits(chr(cp))
        bits = _CHAR_CLASS[cps]
    bounds = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])

    def per_token(bit: int) -> np.ndarray:  # how many characters of each token have ``bit``
        cs = np.zeros(len(bits) + 1, dtype=np.int64)
        np.cumsum((bits & bit) != 0, out=cs[1:])
        return cs[bounds[1:]] - cs[bounds[:-1]]

    one = lengths == 1
    first = np.minimum(bounds[:-1], max(len(bits) - 1, 0))
    return {
        "length": lengths,
        "symbol": per_token(_SYM) == lengths,
        "alpha": per_token(_ALPHA) > 0,
        "sent_punct": one & ((bits[first] & _SENT) != 0) if len(bits) else one,
        "punct": per_token(_PUNCT) == lengths,
    }


VOCAB = Vocabulary()


# ---- spaCy's English tokeniser, per chunk ------------------------------------------------
_PREFIX: Callable[[str], re.Match[str] | None] = re.compile(PREFIX).search
_SUFFIX: Callable[[str], re.Match[str] | None] = re.compile(SUFFIX).search
_INFIX = re.compile(INFIX).finditer
_URL = re.compile(URL).match
_SPECIAL = SPECIAL_CASES

#: Chunks longer than this are split at every non-word character instead, in linear time,
#: rather than by spaCy's rules: their infix patterns cost about a microsecond per character
#: and every prefix or suffix peeled copies the rest of the chunk. Text in scripts without
#: spaces (a paragraph of Chinese or Thai is one chunk) stays well under it.
MAX_CHUNK = 100_000
_SIMPLE = re.compile(r"\w+|[^\w\s]").findall
_SUFFIX_WINDOW = 64


def _suffix(sub: str) -> re.Match[str] | None:
    """spaCy's suffix search; on long strings only over the tail (suffixes are short; a match
    that starts at the window's edge may be longer, so then the whole string is searched)."""
    if len(sub) <= 4 * _SUFFIX_WINDOW:
        return _SUFFIX(sub)
    pos = len(sub) - _SUFFIX_WINDOW
    m = _SUFFIX_AT(sub, pos)
    if m is not None and m.start() == pos:
        return _SUFFIX(sub)
    return m


_SUFFIX_AT = re.compile(SUFFIX).search


def split_chunk(chunk: str, *, fast: bool = True) -> tuple[str, ...]:
    """The tokens of one white-space-free chunk, by spaCy's algorithm (``Tokenizer.explain``).

    The commonest shapes (letters; letters and one closing punctuation mark; the shapes of
    :func:`_fast_split`) take short cuts, and the general rules ask each regular expression
    once per step; ``fast=False`` runs :func:`split_reference` instead (for the tests that
    check that both give the same tokens).
    """
    if not fast:
        return split_reference(chunk)
    if chunk.isalpha():  # no prefix, suffix, infix or URL rule applies to letters only
        return _SPECIAL.get(chunk, (chunk,))
    core = chunk[:-1]
    if core.isalpha() and core.isascii():
        # a word and one closing mark ("word," "word." "Word?"): what _fast_split gives
        last = chunk[-1]
        if (last in _ALWAYS_SUFFIX or (last == "." and core[-1].islower())) and not (
            chunk in _SPECIAL or core in _SPECIAL
        ):
            return (core, last)
    quick = _fast_split(chunk)
    if quick is not None:
        return quick
    return _split_rules(chunk)


def _split_rules(chunk: str) -> tuple[str, ...]:
    """:func:`split_reference` with each prefix and suffix search done once per step (the
    reference repeats them in its loop condition)."""
    if len(chunk) > MAX_CHUNK:
        return tuple(_SIMPLE(chunk))
    tokens: list[str] = []
    suffixes: list[str] = []
    sub = chunk
    special = _SPECIAL.get(sub)
    if special is not None:
        return tuple(t for t in special if t.strip())
    while True:
        pm = _PREFIX(sub)
        sm = None if pm else _suffix(sub)
        if pm is None and sm is None:
            break
        if sub in _SPECIAL:
            break
        if pm:
            split = pm.end()
            if split == 0:
                break
            tokens.append(sub[:split])
            sub = sub[split:]
            if sub in _SPECIAL:
                continue
            sm = _suffix(sub)
        if sm:
            split = sm.start()
            if split == len(sub):
                break
            suffixes.append(sub[split:])
            sub = sub[:split]
    if sub:
        _split_middle(sub, tokens)
    tokens.extend(reversed(suffixes))
    return tuple(t for t in tokens if t.strip())


def _split_middle(sub: str, tokens: list[str]) -> None:
    """What is left of a chunk once prefixes and suffixes are off: a special case, a URL, or
    pieces between infixes (spaCy's ``_attach_tokens``), appended to ``tokens``."""
    special = _SPECIAL.get(sub)
    if special is not None:
        tokens.extend(special)
    elif _URL(sub):
        tokens.append(sub)
    else:
        offset = 0
        for m in _INFIX(sub):
            start, end = m.span()
            if offset == 0 and start == 0:
                continue
            if start > offset:
                tokens.append(sub[offset:start])
            if end > start:
                tokens.append(sub[start:end])
            offset = end
        if sub[offset:]:
            tokens.append(sub[offset:])


def split_reference(chunk: str) -> tuple[str, ...]:
    """The tokens of one white-space-free chunk, by spaCy's algorithm (``Tokenizer.explain``)
    transcribed line for line: the reference that the faster paths of :func:`split_chunk`
    are tested against."""
    if len(chunk) > MAX_CHUNK:
        return tuple(_SIMPLE(chunk))
    tokens: list[str] = []
    suffixes: list[str] = []
    sub = chunk
    while sub:
        special = _SPECIAL.get(sub)
        if special is not None:
            tokens.extend(special)
            break
        while _PREFIX(sub) or _suffix(sub):
            if sub in _SPECIAL:
                break
            m = _PREFIX(sub)
            if m:
                split = m.end()
                if split == 0:
                    break
                tokens.append(sub[:split])
                sub = sub[split:]
                if sub in _SPECIAL:
                    continue
            m = _suffix(sub)
            if m:
                split = m.start()
                if split == len(sub):
                    break
                suffixes.append(sub[split:])
                sub = sub[:split]
        if not sub:
            break
        _split_middle(sub, tokens)
        break
    tokens.extend(reversed(suffixes))
    return tuple(t for t in tokens if t.strip())


#: Suffixes spaCy always splits off (its LIST_PUNCT and LIST_QUOTES), whatever precedes.
_ALWAYS_SUFFIX = frozenset(",;:!?)\"'”’")
#: Prefixes spaCy always splits off (LIST_PUNCT, LIST_QUOTES).
_SAFE_PREFIX = frozenset("(\"'[“‘")
#: Curly quotes: the only non-ASCII characters the fast path handles.
_NO_CURLY = str.maketrans("", "", "“”‘’")
_HYPHENATED = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+").fullmatch
_POSSESSIVE = ("'s", "'S", "’s", "’S")


def _period_splits(before: str, before2: str) -> bool:
    """spaCy's suffix rules for a final "." in ASCII: after a lower-case letter, a digit, a
    punctuation mark or quote of its lists, or two capitals."""
    return (
        before.islower()
        or before.isdigit()
        or before in _ALWAYS_SUFFIX
        or (before.isupper() and before2.isupper())
    )


def _fast_split(chunk: str) -> tuple[str, ...] | None:
    """The commonest ASCII shapes of chunk, split as spaCy's rules split them, or None.

    An optional opening bracket or quote; a core of letters (a word or a special case),
    digits, hyphenated letters (``well-known``: spaCy's hyphen infix) or letters with a
    possessive ``'s``; then closing punctuation and quotes, and periods where spaCy's suffix
    rule splits them. Anything else (or any special case met on the way) takes the full
    rules. test_text_tokenize checks this against the full rules on every chunk of the
    shared web text and on random ASCII chunks.
    """
    if chunk in _SPECIAL or not (chunk.isascii() or chunk.translate(_NO_CURLY).isascii()):
        return None
    if chunk.isdigit():
        return (chunk,)
    start = 0
    pre: tuple[str, ...] = ()
    if chunk[0] in _SAFE_PREFIX:
        pre = (chunk[0],)
        start = 1
        if chunk[1:] in _SPECIAL:
            return None
    end = len(chunk)
    suffixes: list[str] = []
    while end - start > 1:
        last = chunk[end - 1]
        if last in _ALWAYS_SUFFIX or (
            last == "."
            and _period_splits(chunk[end - 2], chunk[end - 3] if end - 3 >= start else "")
        ):
            suffixes.append(last)
            end -= 1
            if chunk[start:end] in _SPECIAL:
                return None
        else:
            break
    core = chunk[start:end]
    body: tuple[str, ...]
    if core.isalpha() and core.isascii():
        body = _SPECIAL.get(core, (core,))
    elif core.isdigit() and core.isascii():
        body = (core,)
    elif _HYPHENATED(core):
        body = tuple(t for piece in core.split("-") for t in (piece, "-"))[:-1]
    elif core.endswith(_POSSESSIVE) and core[:-2].isalpha() and core[:-2].isascii():
        body = (*_SPECIAL.get(core[:-2], (core[:-2],)), core[-2:])
    else:
        return None
    return (*pre, *body, *reversed(suffixes))


#: Put between lines when several lines are encoded as one sequence (never a word token,
#: and never a chunk of ``str.split``, so the chunk table can hold it as a chunk of its own).
LINE_BREAK = "\n"


@lru_cache(maxsize=1 << 16)
def _split_cached(chunk: str) -> tuple[str, ...]:
    return split_chunk(chunk)


def words(text: str) -> list[str]:
    """The word tokens of ``text``, as datatrove's ``split_into_words`` (spaCy) gives them."""
    return [t for chunk in text.split() for t in _split_cached(chunk)]


def _grown(buf: np.ndarray, used: int, need: int) -> np.ndarray:
    """``buf`` with room for ``need`` items (doubling), its first ``used`` kept."""
    if need <= len(buf):
        return buf
    cap = max(len(buf), 1)
    while cap < need:
        cap *= 2
    out = np.zeros(cap, dtype=buf.dtype)
    out[:used] = buf[:used]
    return out


class _ChunkTable(dict[str, int]):
    """Chunk -> chunk number, and per number the ids of its tokens (one flat array: the
    tokens of chunk ``c`` are ``flat[starts[c] : starts[c] + lens[c]]``), valid for the
    vocabulary generation it was made in.

    A known chunk costs one C-level dict hit. An unknown one is split once by spaCy's rules
    and its token ids are appended to Python lists; :meth:`sync` moves them into the numpy
    arrays (and has the vocabulary compute the features of new tokens) once per call of the
    encoders below, not once per chunk.
    """

    def __init__(self) -> None:
        super().__init__()
        self.generation = VOCAB.generation
        self._new_ids: list[int] = []
        self._new_lens: list[int] = []
        self._n_chunks = 0  # chunks moved into the arrays
        self._n_tokens = 0
        self._lens = np.zeros(1024, dtype=np.int64)
        self._starts = np.zeros(1024, dtype=np.int64)
        self._flat = np.zeros(4096, dtype=np.int64)
        self.lens = self._lens[:0]
        self.starts = self._starts[:0]
        self.flat = self._flat[:0]

    def __missing__(self, chunk: str) -> int:
        toks = (LINE_BREAK,) if chunk == LINE_BREAK else split_chunk(chunk)
        number = len(self)
        self[chunk] = number
        self._new_ids.extend(map(VOCAB.__getitem__, toks))
        self._new_lens.append(len(toks))
        return number

    def sync(self) -> None:
        """Move the chunks added since the last call into the arrays."""
        if self._new_lens:
            lens = np.array(self._new_lens, dtype=np.int64)
            ids = np.array(self._new_ids, dtype=np.int64)
            c0, c1 = self._n_chunks, self._n_chunks + len(lens)
            t0, t1 = self._n_tokens, self._n_tokens + len(ids)
            self._lens = _grown(self._lens, c0, c1)
            self._starts = _grown(self._starts, c0, c1)
            self._flat = _grown(self._flat, t0, t1)
            self._lens[c0:c1] = lens
            self._starts[c0] = t0
            np.cumsum(lens[:-1], out=self._starts[c0 + 1 : c1])
            self._starts[c0 + 1 : c1] += t0
            self._flat[t0:t1] = ids
            self._n_chunks, self._n_tokens = c1, t1
            self._new_lens, self._new_ids = [], []
            self.lens = self._lens[:c1]
            self.starts = self._starts[:c1]
            self.flat = self._flat[:t1]
        VOCAB.flush()

    def numbers(self, chunks: Iterable[str], count: int) -> np.ndarray:
        """The numbers of ``count`` chunks, adding unknown ones (then synced)."""
        out = np.fromiter(map(self.__getitem__, chunks), dtype=np.int64, count=count)
        self.sync()
        return out

    def expand(self, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The token ids of a sequence of chunks, and how many tokens each chunk has."""
        lens = self.lens[numbers]
        ends = np.cumsum(lens)
        total = int(ends[-1]) if len(ends) else 0
        if total == 0:
            return np.zeros(0, dtype=np.int64), lens
        shift = np.repeat(self.starts[numbers] - (ends - lens), lens)
        shift += np.arange(total, dtype=np.int64)
        return self.flat[shift], lens


_TABLE = _ChunkTable()
_MAX_CHUNKS = 1_000_000


def _table() -> _ChunkTable:
    """The chunk table, after bounding memory: a new vocabulary generation starts when the
    vocabulary or the table is full (only ever between calls, so that the ids handed out by
    one call are consistent), and a table of an older generation is dropped."""
    global _TABLE
    if len(VOCAB) > VOCAB.max_size or len(_TABLE) > _MAX_CHUNKS:
        VOCAB.reset()
    if _TABLE.generation != VOCAB.generation:
        _TABLE = _ChunkTable()
    return _TABLE


def _per_text(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Offsets (len k+1) of k consecutive runs of ``counts`` items, in units of ``values``
    summed (e.g. tokens per run of chunks)."""
    cs = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=cs[1:])
    bounds = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    return cs[bounds]


def _encode_texts(table: _ChunkTable, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of ``docs`` concatenated, and token offsets (len k+1)."""
    parts = [d.split() for d in docs]
    counts = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    numbers = table.numbers(chain.from_iterable(parts), int(counts.sum()))
    ids, lens = table.expand(numbers)
    return ids, _per_text(lens, counts)


def count_words_many(docs: Sequence[str]) -> np.ndarray:
    """How many word tokens each text has (int64); texts encoded lately come from the cache."""
    return np.diff(encode_many(docs)[1])


def count_words(text: str) -> int:
    """How many word tokens ``text`` has."""
    return int(count_words_many([text])[0])


@dataclass(frozen=True)
class Encoded:
    """A document as token ids (valid for the vocabulary generation it was made in)."""

    ids: np.ndarray
    generation: int

    def __len__(self) -> int:
        return len(self.ids)


class _Cache:
    """The last ``size`` texts' encodings (texts are compared by value)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._data: OrderedDict[str, Encoded] = OrderedDict()

    def lookup(self, text: str) -> np.ndarray | None:
        hit = self._data.get(text)
        if hit is not None and hit.generation == VOCAB.generation:
            return hit.ids
        return None

    def put(self, text: str, ids: np.ndarray) -> None:
        self._data[text] = Encoded(ids, VOCAB.generation)
        if len(self._data) > self.size:
            self._data.popitem(last=False)


_CACHE = _Cache()


def encode_many(docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The token ids of several texts, concatenated, and their offsets: text ``i`` is
    ``ids[offsets[i] : offsets[i + 1]]``. Texts encoded lately (by an earlier rule over the
    same batch) come from the cache; the others are encoded together.

    Ids are valid until the next call (which may reset a full vocabulary); use them at once.
    """
    table = _table()
    found = [_CACHE.lookup(d) for d in docs]
    missing = [i for i, hit in enumerate(found) if hit is None]
    if missing:
        new_ids, new_off = _encode_texts(table, [docs[i] for i in missing])
        if len(missing) == len(docs):
            offsets = new_off
            for i in missing:
                _CACHE.put(docs[i], new_ids[new_off[i] : new_off[i + 1]])
            return new_ids, offsets
        for j, i in enumerate(missing):
            arr = new_ids[new_off[j] : new_off[j + 1]]
            found[i] = arr
            _CACHE.put(docs[i], arr)
    arrays = [a for a in found if a is not None]
    sizes = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    ids = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    return ids, offsets


def encode(text: str) -> Encoded:
    """The token ids of ``text``, shared by every rule that looks at the same text.

    Ids are valid until the next call (which may reset a full vocabulary); use them at once.
    """
    ids, _ = encode_many([text])
    return Encoded(ids, VOCAB.generation)


def encode_lines(lines: Iterable[str]) -> np.ndarray:
    """The ids of several lines with a :data:`LINE_BREAK` id after each (for sentences)."""
    return encode_chunk_lines(line.split() for line in lines)


def encode_chunk_lines(lines: Iterable[list[str]]) -> np.ndarray:
    """Like :func:`encode_lines`, for lines already split on white space."""
    return encode_chunk_lines_many([lines])[0]


def encode_chunk_lines_many(
    docs: Sequence[Iterable[list[str]]],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode_chunk_lines` for several documents at once: the ids concatenated, and
    offsets (len k+1). A document without lines has no ids (not even a line break)."""
    table = _table()
    seq: list[str] = []
    counts = np.zeros(len(docs), dtype=np.int64)
    for j, lines in enumerate(docs):
        before = len(seq)
        for chunks in lines:
            seq.extend(chunks)
            seq.append(LINE_BREAK)
        counts[j] = len(seq) - before
    ids, lens = table.expand(table.numbers(seq, len(seq)))
    return ids, _per_text(lens, counts)


def remember_lines_as_texts(
    docs: Sequence[str], ids: np.ndarray, offsets: np.ndarray, which: Iterable[int]
) -> None:
    """Put the encodings of texts made of encoded lines (``"\n".join`` of the lines that
    :func:`encode_chunk_lines_many` encoded, e.g. the c4 rule's kept lines) into the cache,
    so that the next rule over those texts does not tokenise them again: a text's tokens are
    its lines' tokens without the line breaks (lines hold no white space but at their ends,
    which splitting on white space ignores)."""
    if LINE_BREAK not in VOCAB:
        return
    keep = ids != VOCAB[LINE_BREAK]
    cs = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(keep, out=cs[1:])
    words_only = ids[keep]
    bounds = cs[offsets]
    for i in which:
        _CACHE.put(docs[i], words_only[bounds[i] : bounds[i + 1]])


def word_ids(words_: tuple[str, ...] | list[str]) -> np.ndarray:
    """The current ids of some words (e.g. stop words); call after :func:`encode`."""
    ids = np.array(sorted({VOCAB[w] for w in words_}), dtype=np.int64)
    VOCAB.flush()
    return ids


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array (``np.unique`` without its first-call
    import cost, which is most of a cold batch's share)."""
    if len(values) < 2:
        return np.sort(values)
    s = np.sort(values)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    out: np.ndarray = s[keep]
    return out


def count_sentences(ids: np.ndarray) -> int:
    """Sentences as spaCy's sentencizer counts them, summed over lines.

    ``ids`` encodes one or more lines separated by :data:`LINE_BREAK`. Within a line, a new
    sentence starts at a token that is neither punctuation nor sentence punctuation, once a
    sentence-punctuation token has been seen since the last start; every non-empty line is at
    least one sentence. Vectorised: a start after sentence punctuation at ``p`` is the first
    start after ``p``; counting the distinct such starts counts the boundaries.
    """
    return int(count_sentences_many(ids, np.array([0, len(ids)], dtype=np.int64))[0])


def count_sentences_many(ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """:func:`count_sentences` of several sequences at once: sequence ``j`` is
    ``ids[offsets[j] : offsets[j + 1]]``; one count per sequence (int64)."""
    k = len(offsets) - 1
    out = np.zeros(k, dtype=np.int64)
    if len(ids) == 0:
        return out
    offsets = np.asarray(offsets, dtype=np.int64)

    def doc_of(pos: np.ndarray) -> np.ndarray:
        found: np.ndarray = np.searchsorted(offsets, pos, side="right") - 1
        return found

    brk = ids == VOCAB[LINE_BREAK] if LINE_BREAK in VOCAB else np.zeros(len(ids), dtype=bool)
    # lines with at least one token: a token at a sequence's start or after a line break
    tok = ~brk
    line_start = tok.copy()
    line_start[1:] &= brk[:-1]
    firsts = offsets[:-1][np.diff(offsets) > 0]
    line_start[firsts] = tok[firsts]
    out += np.bincount(doc_of(np.flatnonzero(line_start)), minlength=k)[:k]
    sp = VOCAB.sent_punct[ids]
    if not sp.any():
        return out
    starts = np.flatnonzero(~(VOCAB.punct[ids] | sp))  # line breaks are starts too
    sp_pos = np.flatnonzero(sp)
    nxt = np.searchsorted(starts, sp_pos, side="right")
    ok = nxt < len(starts)
    sp_pos, nxt = sp_pos[ok], nxt[ok]
    bpos = starts[nxt]
    bpos = distinct(bpos[doc_of(bpos) == doc_of(sp_pos)])  # a start in the same sequence
    bpos = bpos[~brk[bpos]]  # a line's own start is counted above
    out += np.bincount(doc_of(bpos), minlength=k)[:k]
    return out
