"""``url.blocklist``: remove records whose URL is on a domain list or contains a listed string.

Lists are files the user names, relative to the recipe folder (e.g. the UT1 blacklists that
FineWeb and RefinedWeb used). A domain entry blocks the domain and every subdomain:
``example.com`` blocks ``example.com`` and ``a.b.example.com`` but not ``notexample.com``.
Hosts are parsed with :mod:`urllib.parse` (so ports, user info, IPv6 literals and case are
handled) and compared in IDNA form, so ``bücher.example`` and ``xn--bcher-kva.example`` are
the same entry. Substring entries match anywhere in the lower-cased URL.

Records without a URL (empty or null in ``url_column``) pass: there is nothing to block.
Their count is in the ``url_blocked`` signal (false) like any other kept record.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.steps.base import (
    Filter,
    FilterDecision,
    StepContext,
    StepOptions,
    StepResult,
)

logger = logging.getLogger(__name__)

_HOSTS_PREFIX = re.compile(r"^(?:0\.0\.0\.0|127\.0\.0\.1|::1?)\s+")


@dataclass(frozen=True, kw_only=True)
class UrlBlocklistOptions(StepOptions):
    """Options of ``url.blocklist``."""

    #: Files of blocked domains, one per line (``#`` comments and blank lines ignored;
    #: ``*.example.com``, ``.example.com`` and hosts-file lines ``0.0.0.0 example.com`` are
    #: accepted). Paths are relative to the recipe folder.
    domain_files: tuple[str, ...] = ()
    #: Files of blocked URL substrings, one per line (matched case-insensitively).
    substring_files: tuple[str, ...] = ()
    #: Blocked domains written in the recipe itself, in addition to the files.
    domains: tuple[str, ...] = ()
    #: Blocked URL substrings written in the recipe itself.
    substrings: tuple[str, ...] = ()
    #: The column holding the URL.
    url_column: str = "source_uri"

    def validate(self) -> None:
        if not (self.domain_files or self.substring_files or self.domains or self.substrings):
            raise StepError(
                "step `url.blocklist` has nothing to block",
                hint="name at least one of domain_files, substring_files, domains, substrings",
            )


def normalise_domain(entry: str) -> str | None:
    """A list entry as a bare IDNA host (``None`` for blanks and comments)."""
    entry = entry.split("#", 1)[0].strip()
    if not entry:
        return None
    entry = _HOSTS_PREFIX.sub("", entry).strip()
    if "://" in entry or "/" in entry:
        host = host_of(entry)
        return host
    entry = entry.lstrip("*").strip(".").lower()
    return _idna(entry) if entry else None


def _idna(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host  # not IDNA-encodable (e.g. a label over 63 chars): compare as written


def host_of(url: str) -> str | None:
    """The host of a URL, lower-cased, IDNA-encoded, without a trailing dot."""
    url = url.strip()
    if not url:
        return None
    if "://" not in url[:16]:
        url = "//" + url  # "example.com/path": let urlsplit see a netloc
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return _idna(host) if host else None


def read_list(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        return fh.read().splitlines()


class UrlBlocklist(Filter):
    """Remove records whose URL's host is a blocked domain (or under one) or contains a
    blocked substring."""

    name: ClassVar[str] = "url.blocklist"
    Options: ClassVar[type[StepOptions]] = UrlBlocklistOptions
    whatif_unsupported: ClassVar[str] = "the decision depends on the block list"

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self._domains: frozenset[str] | None = None
        self._substrings: tuple[str, ...] = ()
        self._substring_re: re.Pattern[str] | None = None

    @property
    def opts(self) -> UrlBlocklistOptions:
        return cast(UrlBlocklistOptions, self.options)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_domains"] = None
        state["_substrings"] = ()
        state["_substring_re"] = None
        return state

    def _paths(self, recipe_dir: Path) -> list[tuple[str, Path]]:
        return [(f, recipe_dir / f) for f in self.opts.domain_files] + [
            (f, recipe_dir / f) for f in self.opts.substring_files
        ]

    def check(self, recipe_dir: Path) -> None:
        for name, path in self._paths(recipe_dir):
            if not path.is_file():
                raise StepError(
                    f"step `url.blocklist`: list file `{name}` not found at {path}",
                    hint="paths in domain_files/substring_files are relative to the recipe folder",
                )

    def setup(self, ctx: StepContext) -> None:
        self.load(ctx.recipe_dir)

    def load(self, recipe_dir: Path) -> None:
        """Read the lists (done once per worker)."""
        self.check(recipe_dir)
        opts = self.opts
        domains: set[str] = set()
        for line in [
            *opts.domains,
            *(x for f in opts.domain_files for x in read_list(recipe_dir / f)),
        ]:
            host = normalise_domain(line)
            if host:
                domains.add(host)
        subs: set[str] = set()
        for line in [
            *opts.substrings,
            *(x for f in opts.substring_files for x in read_list(recipe_dir / f)),
        ]:
            entry = line.strip().lower()
            if entry and not entry.startswith("#"):
                subs.add(entry)
        self._domains = frozenset(domains)
        # Longest first, so the detail names the most specific entry that matched.
        self._substrings = tuple(sorted(subs, key=lambda s: (-len(s), s)))
        self._substring_re = (
            re.compile("|".join(re.escape(s) for s in self._substrings)) if subs else None
        )
        logger.info("url.blocklist: %d domains, %d substrings", len(domains), len(subs))

    def match(self, url: str | None) -> tuple[str, str] | None:
        """``(reason, entry)`` if the URL is blocked, else ``None``."""
        if self._domains is None:
            raise StepError("step `url.blocklist` used before setup()")
        if not url:
            return None
        host = host_of(url)
        if host and self._domains:
            labels = host.split(".")
            for i in range(len(labels)):
                suffix = ".".join(labels[i:])
                if suffix in self._domains:
                    return "url_blocked_domain", suffix
        if self._substring_re is not None:
            m = self._substring_re.search(url.lower())
            if m:
                return "url_blocked_substring", m.group(0)
        return None

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        if self._domains is None:  # an executor that skipped setup(): load lazily
            self.load(ctx.recipe_dir)
        return super().process(batch, ctx)

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        col = self.opts.url_column
        if batch.schema.get_field_index(col) < 0:
            raise StepError(
                f"step `url.blocklist`: the records have no column `{col}`",
                hint="set url_column to the column that holds the URL",
            )
        urls = batch.column(col).to_pylist()
        n = len(urls)
        keep = np.ones(n, dtype=bool)
        reason: list[str | None] = [None] * n
        detail: list[str | None] = [None] * n
        for i, url in enumerate(urls):
            hit = self.match(url if isinstance(url, str) else None)
            if hit is not None:
                keep[i] = False
                reason[i] = hit[0]
                detail[i] = json.dumps({"entry": hit[1], "url": url[:500]})
        return FilterDecision(
            keep=keep,
            reason=reason,
            detail=detail,
            signals={"url_blocked": pa.array(~keep, pa.bool_())},
        )
