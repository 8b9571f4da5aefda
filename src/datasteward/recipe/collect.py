"""``[[collect]]``: what the collection stage fetches, how politely, and what it honours.

One table per collection, e.g.::

    [[collect]]
    name = "news"
    kind = "pages"                       # or "images"
    seeds = ["https://example.org/"]
    sitemaps = ["https://example.org/sitemap.xml"]
    hosts = ["example.org"]              # scope (default: the hosts of the seeds)
    max_depth = 2
    max_pages = 1000
    contact_url = "https://example.org/about-our-crawler"
    min_delay = 1.0

The output lands under ``collect/<name>/`` in the project (WARC parts and the frontier); a
``[[sources]]`` entry with ``format = "warc"`` and ``path = "collect/<name>/warc/*.warc.gz"``
reads it into a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from datasteward.recipe._typed import build
from datasteward.recipe._where import Where

COLLECT_KINDS = ("pages", "images")


@dataclass(frozen=True, kw_only=True)
class CollectConfig:
    """One ``[[collect]]`` table."""

    name: str
    kind: Literal["pages", "images"] = "pages"
    #: Start URLs.
    seeds: tuple[str, ...] = ()
    #: A file of URLs (relative to the recipe): one per line for pages; for images a
    #: Parquet / CSV / JSONL list with ``url_field`` and ``caption_field``.
    urls: str | None = None
    url_field: str = "url"
    caption_field: str | None = "caption"
    #: Sitemap URLs (XML, sitemap indexes followed), bounded by ``max_sitemap_urls``.
    sitemaps: tuple[str, ...] = ()
    max_sitemap_urls: int = 50_000
    #: Scope: hosts whose pages are kept (empty: the hosts of the seeds, URL list and
    #: sitemaps); ``include`` / ``exclude`` regular expressions over the whole URL.
    hosts: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: Link depth from a seed (0: only the seeds).
    max_depth: int = 2
    max_pages: int = 1000
    max_pages_per_host: int | None = None
    #: Robots.txt product token of the crawler, and where a site owner can reach its operator
    #: (both go into the User-Agent: ``<user_agent>/<version> (+<contact_url>)``).
    user_agent: str = "datasteward"
    contact_url: str | None = None
    #: AI-training agents whose robots.txt rules are obeyed too (default: the maintained list
    #: in :data:`datasteward.rights.optout_signals.AI_AGENTS`), and more to add to it.
    ai_agents: tuple[str, ...] | None = None
    extra_ai_agents: tuple[str, ...] = ()
    #: X-Robots-Tag / meta robots directives that reserve training rights.
    directives: tuple[str, ...] = ("noai",)
    #: A page whose signals reserve training rights: "record" keeps it in the WARC with its
    #: signals (``rights.optout`` removes it in the run, traced); "drop" leaves it out (the
    #: decision stays in the frontier).
    reserved: Literal["record", "drop"] = "record"
    #: Politeness.
    min_delay: float = 1.0
    per_host: int = 1
    concurrency: int = 16
    crawl_delay: bool = True
    #: Limits of one fetch.
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    max_body_bytes: int = 10 << 20
    max_redirects: int = 5
    retries: int = 3
    http2: bool = False
    #: Keep only HTML (text/html, application/xhtml+xml) unless this is false.
    html_only: bool = True
    #: Roll to a new WARC part past this many bytes.
    warc_part_bytes: int = 1 << 30
    #: Output folder, relative to the recipe (default ``collect/<name>``).
    output: str | None = None
    #: ``kind = "images"`` (docs/collect.md): the stored image's size, resize mode (as
    #: img2dataset), format and quality; images over ``max_pixels`` are refused unread
    #: (decompression bombs); rows per WebDataset shard; processes that decode and resize.
    image_size: int = 256
    resize_mode: Literal["no", "keep_ratio", "keep_ratio_largest", "center_crop", "border"] = (
        "border"
    )
    resize_only_if_bigger: bool = False
    encode_format: Literal["jpg", "png", "webp"] = "jpg"
    encode_quality: int = 95
    max_pixels: int = 40_000_000
    min_image_size: int = 0
    shard_size: int = 10_000
    processes: int = 2
    #: Where in the recipe this table was declared, for error messages.
    where: str = ""


def parse_collect(w: Where, raw: Any) -> tuple[CollectConfig, ...]:
    """The ``[[collect]]`` tables, checked (file:line errors)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise w.err("`collect` must be an array of tables ([[collect]])", key="collect")
    out: list[CollectConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        label = f"[[collect]] `{entry.get('name', f'#{i + 1}')}`"
        cfg = build(
            CollectConfig,
            entry,
            w,
            table="collect",
            index=i,
            label=label,
            extra={"where": w.at("collect", i)},
        )

        def bad(msg: str, key: str, hint: str | None = None) -> Exception:
            return w.err(msg, table="collect", index=i, key=key, hint=hint)  # noqa: B023

        if not cfg.name or any(c in cfg.name for c in ":/\\ \t") or cfg.name in seen:
            raise bad(
                f"collect name {cfg.name!r} must be unique, non-empty, without ':', '/', "
                "'\\' or spaces",
                "name",
            )
        seen.add(cfg.name)
        if not (cfg.seeds or cfg.urls or cfg.sitemaps):
            raise bad(
                f"{label} has nothing to fetch",
                "seeds",
                'give seeds = ["https://..."], urls = "list.txt" or sitemaps = [...]',
            )
        for key in ("include", "exclude"):
            for pattern in getattr(cfg, key):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise bad(
                        f"`{key}` pattern {pattern!r} is not a regular expression ({exc})", key
                    ) from None
        for key in (
            "max_depth",
            "max_pages",
            "per_host",
            "concurrency",
            "max_redirects",
            "retries",
            "max_body_bytes",
            "warc_part_bytes",
            "max_sitemap_urls",
        ):
            value = getattr(cfg, key)
            if value < (0 if key in ("max_depth", "retries", "max_redirects") else 1):
                raise bad(f"`{key}` must be positive, got {value}", key)
        for key in ("min_delay", "connect_timeout", "read_timeout", "total_timeout"):
            if getattr(cfg, key) < 0:
                raise bad(f"`{key}` must not be negative", key)
        if cfg.contact_url is not None and not re.match(
            r"^(https?://|mailto:)\S+$", cfg.contact_url
        ):
            raise bad(
                f"`contact_url` {cfg.contact_url!r} must be an http(s) or mailto URL",
                "contact_url",
                "site owners use it to reach you about your crawler",
            )
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", cfg.user_agent):
            raise bad(
                f"`user_agent` {cfg.user_agent!r} must be a robots.txt product token "
                "(letters, digits, '-' and '_')",
                "user_agent",
            )
        out.append(cfg)
    return tuple(out)


def collect_table(
    tables: tuple[CollectConfig, ...], name: str | None, kind: str
) -> CollectConfig | None:
    """The table called ``name`` (or the only one of ``kind``); None if there is none."""
    mine = [t for t in tables if t.kind == kind]
    if name is not None:
        return next((t for t in mine if t.name == name), None)
    return mine[0] if len(mine) == 1 else None


__all__ = ["COLLECT_KINDS", "CollectConfig", "collect_table", "parse_collect"]
