"""What identifies a taken-down record: clear needles (in memory, for erasing) and a
fingerprint of sha256 hashes (kept in the ledger, for proving the erasure later).

A record's text is found again by *windows*: runs of ``WINDOW`` characters of the text that
start after a blank and hold no line break (so they survive HTML, JSON and CSV escaping once
unescaped, and a sample that shows only part of the text). The fingerprint keeps the sha256 of
up to ``MAX_WINDOWS`` of them, spread over the text, with the sha256 of the whole text, of the
normalised URL and of the raw URL; a scan hashes the windows of what it reads at the same
word starts and compares. The record id is kept in clear (ids are what the suppression list
and the ledger keep anyway).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from datasteward.records.urls import normalize_url

WINDOW = 32
MAX_WINDOWS = 64
#: Windows always kept from the start of the text (where samples and snippets come from).
FIRST_WINDOWS = 8
#: Distinct windows a value must hold to hold "a substring of the text" (fewer when the text
#: has fewer): one shared window may be boilerplate, several in one value are the record.
MIN_HITS = 3
#: A window is distinctive when it holds at least this many letters.
MIN_LETTERS = 16
_WORD_START = re.compile(r"(?<=\s)\S")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\"'<>\\\]\)]+"
    # a bare host and path, as audits show domains: ``name.example.org/page``
    r"|(?<![\w.@/-])(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s\"'<>\\\]\)]*)?",
    re.IGNORECASE,
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def windows(text: str) -> list[str]:
    """Distinctive windows of ``text`` that do not overlap: the first ``FIRST_WINDOWS``, then
    evenly spread, ``MAX_WINDOWS`` at most."""
    found: list[str] = []
    end = -1
    for m in _WORD_START.finditer(text):
        if m.start() < end:
            continue
        w = text[m.start() : m.start() + WINDOW]
        if len(w) < WINDOW or any(c in w for c in "\r\n\t") or "  " in w:
            continue
        if sum(c.isalpha() for c in w) >= MIN_LETTERS:
            found.append(w)
            end = m.start() + WINDOW
    found = list(dict.fromkeys(found))
    if len(found) <= MAX_WINDOWS:
        return found
    head, rest = found[:FIRST_WINDOWS], found[FIRST_WINDOWS:]
    n = MAX_WINDOWS - FIRST_WINDOWS
    step = len(rest) / n
    return head + [rest[int(i * step)] for i in range(n)]


def enough(hits: int, windows: int) -> bool:
    """Whether ``hits`` distinct windows of a text's ``windows`` show the text is there."""
    return hits >= min(MIN_HITS, windows) and hits > 0


def window_hashes_in(text: str) -> Iterator[tuple[int, str]]:
    """(position, sha256) of every window of ``text`` that starts after a blank."""
    for m in _WORD_START.finditer(text):
        p = m.start()
        w = text[p : p + WINDOW]
        if len(w) == WINDOW:
            yield p, sha(w)


def urls_in(text: str) -> Iterator[str]:
    yield from (m.group(0) for m in _URL.finditer(text))


def url_hashes(url: str) -> set[str]:
    """The hashes a URL is known by: as written, and normalised (scheme-less, lower host)."""
    out = {sha(url.strip())}
    norm = normalize_url(url)
    if norm:
        out |= {sha(norm), sha(norm.rstrip("/"))}
    return out


@dataclass(frozen=True)
class RecordNeedles:
    """One taken-down record in clear: only in memory and in the pending file of an erasure."""

    id: str
    texts: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    content_sha256: tuple[str, ...] = ()

    def windows(self) -> list[str]:
        return list(dict.fromkeys(w for t in self.texts for w in windows(t)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "texts": list(self.texts),
            "urls": list(self.urls),
            "content_sha256": list(self.content_sha256),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecordNeedles:
        return cls(
            id=str(d["id"]),
            texts=tuple(d.get("texts", ())),
            urls=tuple(d.get("urls", ())),
            content_sha256=tuple(d.get("content_sha256", ())),
        )


@dataclass(frozen=True)
class Fingerprint:
    """Hashes of taken-down records (what the ledger keeps) and their ids."""

    ids: frozenset[str] = frozenset()
    text_hashes: frozenset[str] = frozenset()
    window_hashes: frozenset[str] = frozenset()
    url_hashes: frozenset[str] = frozenset()
    window: int = WINDOW
    #: The fewest windows any one record's text has (how many a hit needs: :func:`enough`).
    min_windows: int = MIN_HITS

    @classmethod
    def of(cls, records: Iterable[RecordNeedles]) -> Fingerprint:
        recs = list(records)
        return cls(
            ids=frozenset(r.id for r in recs),
            text_hashes=frozenset(
                {sha(t) for r in recs for t in r.texts}
                | {h for r in recs for h in r.content_sha256}
            ),
            window_hashes=frozenset(sha(w) for r in recs for w in r.windows()),
            url_hashes=frozenset(h for r in recs for u in r.urls for h in url_hashes(u)),
            min_windows=min([len(windows(t)) for r in recs for t in r.texts] or [MIN_HITS]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ids": sorted(self.ids),
            "text_sha256": sorted(self.text_hashes),
            "window_sha256": sorted(self.window_hashes),
            "url_sha256": sorted(self.url_hashes),
            "window": self.window,
            "min_windows": self.min_windows,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fingerprint:
        return cls(
            ids=frozenset(d.get("ids", [])),
            text_hashes=frozenset(d.get("text_sha256", [])),
            window_hashes=frozenset(d.get("window_sha256", [])),
            url_hashes=frozenset(d.get("url_sha256", [])),
            window=int(d.get("window", WINDOW)),
            min_windows=int(d.get("min_windows", MIN_HITS)),
        )

    def hits(self, text: str, *, ids: bool = True, whole_url: bool = False) -> list[str]:
        """What of the record ``text`` holds: "its text", "a substring of its text", "its URL",
        "its id". With ``whole_url`` (a table's cell), a URL counts only as the whole value: a
        page that links to the record's page is not the record."""
        found: list[str] = []
        if not text:
            return found
        if sha(text) in self.text_hashes:
            found.append("its text")
        elif self.window_hashes and len(text) >= self.window:
            seen = {h for _, h in window_hashes_in(" " + text) if h in self.window_hashes}
            if enough(len(seen), self.min_windows):
                found.append("a substring of its text")
        if self.url_hashes and "." in text:
            candidates = [] if whole_url else list(urls_in(text))
            if len(text) < 4096 and not any(c.isspace() for c in text.strip()):
                # a table's host column names a site, not the page (unless it is a URL)
                if not whole_url or "/" in text:
                    candidates.append(text)
            if any(h in self.url_hashes for u in candidates for h in url_hashes(u)):
                found.append("its URL")
        if ids and self.ids:
            if text in self.ids or (
                not whole_url
                and any(re.search(r"(?<![\w:])" + re.escape(i) + r"(?!\w)", text) for i in self.ids)
            ):
                found.append("its id")
        return found
