"""What a crawl starts from: seeds, a URL list file and sitemaps (bounded, fetched politely),
put into the frontier once; and the crawl's scope."""

from __future__ import annotations

import logging
from pathlib import Path

from datasteward.collect.discover import Scope, normalize, sitemap_urls, url_list
from datasteward.collect.fetch import Fetcher, check_url
from datasteward.collect.frontier import Frontier
from datasteward.collect.politeness import url_host_key
from datasteward.collect.progress import CrawlProgress
from datasteward.collect.robots import RobotsCache
from datasteward.errors import RecipeError
from datasteward.recipe.collect import CollectConfig

log = logging.getLogger(__name__)


async def seed(
    project_dir: Path,
    cfg: CollectConfig,
    frontier: Frontier,
    fetcher: Fetcher,
    robots: RobotsCache,
    progress: CrawlProgress,
    *,
    resumed: bool,
) -> Scope:
    """The crawl's scope; the first time (not ``resumed``) also fill the frontier."""
    start: list[str] = list(cfg.seeds)
    if cfg.urls:
        path = Path(cfg.urls)
        path = path if path.is_absolute() else project_dir / path
        if not path.exists():
            raise RecipeError(
                f"{cfg.where}: [[collect]] `{cfg.name}`: no URL list at {path}",
                hint="fix `urls` (relative to the recipe)",
            )
        start.extend(url_list(path))
    hosts = set(cfg.hosts) or {
        url_host_key(u) for u in [*start, *cfg.sitemaps] if check_url(u) is None
    }
    scope = Scope.build(hosts, cfg.include, cfg.exclude)
    if resumed:
        return scope
    room = cfg.max_pages
    rows = []
    for raw in start:
        url = normalize(raw) if check_url(raw.strip()) is None else None
        # a bad seed is kept as written, so its failure is counted with its reason
        rows.append((url or raw.strip(), url_host_key(url) if url else "", 0))
    frontier.add(rows, room=room)
    for sm in cfg.sitemaps:
        found = await sitemap_pages(
            fetcher, robots, sm, limit=cfg.max_sitemap_urls, progress=progress
        )
        frontier.add(
            [(u, url_host_key(u), 0) for u in found if scope.why_not(u) is None], room=room
        )
    frontier.set_meta("seeded", "1")
    return scope


async def sitemap_pages(
    fetcher: Fetcher,
    robots: RobotsCache,
    url: str,
    *,
    limit: int,
    progress: CrawlProgress,
    depth: int = 0,
) -> list[str]:
    """Page URLs of a sitemap (indexes followed two levels deep), at most ``limit``."""
    if check_url(url) or not (await robots.decision(url)).allowed:
        log.warning("sitemap %s not fetched (bad URL or refused by robots.txt)", url)
        return []
    got = await fetcher.get(url, accept="application/xml, text/xml, */*;q=0.5")
    if not got.ok:
        log.warning("sitemap %s: %s", url, got.detail or got.status)
        progress.errors[f"sitemap_{got.error or got.status}"] += 1
        return []
    pages, nested = sitemap_urls(got.body, limit=limit)
    for sub in nested[:1000] if depth < 2 else []:
        if len(pages) >= limit:
            break
        more = await sitemap_pages(
            fetcher, robots, sub, limit=limit - len(pages), progress=progress, depth=depth + 1
        )
        pages.extend(more)
    return pages[:limit]
