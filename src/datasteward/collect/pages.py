"""``datasteward collect pages``: the polite crawler.

For each ``[[collect]]`` table of kind ``pages``: seeds, a URL list and sitemaps fill the
frontier (once); then one worker per host (one connection per host by default) takes its URLs
in order, asks robots.txt (for our agent and for every listed AI agent: a refusal is obeyed and
recorded), fetches within the limits, gathers the signals, writes the page to the WARC and
marks it done, and adds the in-scope links of the page (up to ``max_depth``). Hosts run side
by side up to the global concurrency.

A page whose signals reserve training rights is written with them (``reserved = "record"``;
``rights.optout`` removes it in the run, traced) or left out (``"drop"``); either way the
decision is in the frontier and in the WARC's metadata record for the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.collect.commit import GroupCommit
from datasteward.collect.discover import Scope, links
from datasteward.collect.fetch import (
    Fetcher,
    check_url,
)
from datasteward.collect.from_recipe import fetch_options_of, politeness_of
from datasteward.collect.frontier import Done, Frontier, Pending
from datasteward.collect.politeness import HostScheduler, Politeness, url_host_key
from datasteward.collect.progress import CrawlProgress
from datasteward.collect.robots import RobotsCache
from datasteward.collect.seeds import seed
from datasteward.collect.signals import gather
from datasteward.collect.warc_out import WARC_SUBDIR, WarcWriter
from datasteward.errors import RecipeError, RunError
from datasteward.recipe.collect import CollectConfig
from datasteward.rights.optout_signals import AI_AGENTS

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


def output_dir(project_dir: str | Path, cfg: CollectConfig) -> Path:
    """``collect/<name>`` under the project (or the table's ``output``)."""
    return Path(project_dir) / (cfg.output or f"collect/{cfg.name}")


def agents_of(cfg: CollectConfig) -> tuple[str, ...]:
    base = AI_AGENTS if cfg.ai_agents is None else cfg.ai_agents
    return tuple(dict.fromkeys((*base, *cfg.extra_ai_agents)))


@dataclass(frozen=True)
class CrawlSummary:
    name: str
    folder: Path
    warc_parts: tuple[str, ...]
    states: dict[str, int]
    outcomes: dict[str, int]
    progress: dict[str, Any]


def _decode(body: bytes, content_type_header: str | None) -> str:
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    charset = None
    if content_type_header and "charset=" in content_type_header.lower():
        charset = content_type_header.lower().split("charset=")[-1].split(";")[0].strip(" \"'")
    try:
        return body.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        return str(bytes_to_str(body, detect_encoding(body) or "utf-8"))


class PageCrawl:
    """One ``[[collect]]`` crawl of pages; :meth:`run` crawls until the frontier is empty (or
    ``stop_after`` URLs were finished in this process)."""

    def __init__(
        self,
        project_dir: str | Path,
        cfg: CollectConfig,
        *,
        on_progress: Callable[[CrawlProgress], None] | None = None,
        politeness: Politeness | None = None,
    ) -> None:
        if cfg.kind != "pages":
            raise RecipeError(f"[[collect]] `{cfg.name}` is kind {cfg.kind!r}, not pages")
        self.options = fetch_options_of(cfg)  # refuses a table without contact_url
        self.project_dir = Path(project_dir)
        self.cfg = cfg
        self.folder = output_dir(project_dir, cfg)
        self.on_progress = on_progress
        self.politeness = politeness or politeness_of(cfg)
        self.agents = agents_of(cfg)
        self.progress = CrawlProgress()
        self._commit: GroupCommit | None = None

    # ---- public ---------------------------------------------------------------------------
    def run(self, *, stop_after: int | None = None) -> CrawlSummary:
        frontier = Frontier(self.folder, per_host=self.cfg.max_pages_per_host)
        try:
            writer = WarcWriter(
                self.folder / WARC_SUBDIR,
                self.cfg.name,
                part_bytes=self.cfg.warc_part_bytes,
                info={
                    "operator": self.cfg.contact_url or "",
                    "robots": "obey (own agent and AI agents)",
                    "isPartOf": self.cfg.name,
                    "http-header-user-agent": self.options.user_agent,
                },
            )
            cut = writer.open(frontier.parts())
            if cut:
                log.info("resume: cut half-written WARC tails %s", cut)
            try:
                asyncio.run(self._crawl(frontier, writer, stop_after))
            finally:
                writer.close()
            parts = tuple(
                sorted(
                    p.name for p in (self.folder / WARC_SUBDIR).glob(f"{self.cfg.name}-*.warc.gz")
                )
            )
            return CrawlSummary(
                self.cfg.name,
                self.folder,
                parts,
                dict(frontier.states()),
                dict(frontier.by_kind()),
                self.progress.to_json(),
            )
        finally:
            frontier.close()

    # ---- the crawl ------------------------------------------------------------------------
    async def _crawl(self, frontier: Frontier, writer: WarcWriter, stop_after: int | None) -> None:
        cfg = self.cfg
        self._commit = GroupCommit(frontier, writer, room=cfg.max_pages, on_done=self._count)
        sched = HostScheduler(self.politeness)
        resumed = frontier.get_meta("seeded") is not None
        if resumed:
            hosts = frontier.hosts()
            self.progress.resumed_from = sum(
                n for s, n in frontier.states().items() if s != "pending"
            )
            sched.hold_all(hosts)  # the killed process may have just asked any of them
        async with Fetcher(sched, self.options) as fetcher:
            robots = RobotsCache(
                fetcher, agent=cfg.user_agent, ai_agents=self.agents, store=frontier
            )
            scope = await seed(
                self.project_dir,
                self.cfg,
                frontier,
                fetcher,
                robots,
                self.progress,
                resumed=resumed,
            )
            ticker = asyncio.create_task(self._tick(sched, frontier))
            try:
                await self._loop(frontier, writer, fetcher, robots, sched, scope, stop_after)
            finally:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
        self.progress.pending = frontier.states().get("pending", 0)
        self._report()

    async def _tick(self, sched: HostScheduler, frontier: Frontier) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.progress.hosts_active = sched.hosts_active
            self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)

    async def _loop(
        self,
        frontier: Frontier,
        writer: WarcWriter,
        fetcher: Fetcher,
        robots: RobotsCache,
        sched: HostScheduler,
        scope: Scope,
        stop_after: int | None,
    ) -> None:
        queues: dict[str, deque[Pending]] = {}
        workers: dict[str, asyncio.Task[None]] = {}
        #: Rows up to this id were taken from the frontier (each once: a page may be fetched
        #: but not yet committed, and so still "pending" there).
        seen = [0]
        max_hosts = max(1, self.politeness.concurrency) * 4
        budget = [stop_after if stop_after is not None else -1]

        async def work(host: str) -> None:
            q = queues[host]
            while q and budget[0] != 0:
                row = q.popleft()
                if budget[0] > 0:
                    budget[0] -= 1
                await self._one(row, frontier, writer, fetcher, robots, sched, scope)

        while True:
            waiting = sum(len(q) for q in queues.values())
            if budget[0] != 0 and waiting < max_hosts * 8:
                for row in frontier.pending(max_hosts * 8, after=seen[0]):
                    seen[0] = max(seen[0], row.id)
                    queues.setdefault(row.host, deque()).append(row)
            for host, q in queues.items():
                if q and host not in workers and len(workers) < max_hosts:
                    workers[host] = asyncio.create_task(work(host))
            if not workers:
                if self._gc.busy:
                    await self._gc.drained()  # its commits may add links to the frontier
                    continue
                await self._gc.drained()
                break
            finished, _ = await asyncio.wait(
                list(workers.values()), return_when=asyncio.FIRST_COMPLETED, timeout=1.0
            )
            for host in [h for h, t in workers.items() if t in finished]:
                task = workers.pop(host)
                if task.exception() is not None:
                    for t in workers.values():
                        t.cancel()
                    raise task.exception()  # type: ignore[misc]
                if not queues[host]:
                    del queues[host]

    async def _one(
        self,
        row: Pending,
        frontier: Frontier,
        writer: WarcWriter,
        fetcher: Fetcher,
        robots: RobotsCache,
        sched: HostScheduler,
        scope: Scope,
    ) -> None:
        cfg = self.cfg
        url = row.url
        room = cfg.max_pages
        bad = check_url(url)
        if bad:
            self._finish(frontier, Done(url, "failed", "error", bad[0], bad[1]), room)
            return
        if url in self._gc.written:  # the final URL of a redirect fetched meanwhile
            self._finish(frontier, Done(url, "skipped", "same_as_redirect"), room)
            return
        decision = await robots.decision(url)
        site = await robots.site(url)
        sched.set_crawl_delay(row.host, decision.crawl_delay)
        if not decision.allowed:
            sig = gather(
                url,
                None,
                site=site,
                robots=decision,
                html=None,
                agents=self.agents,
                directives=cfg.directives,
                depth=row.depth,
            )
            sig.decision = "robots_unreachable" if decision.unreachable else "robots_refused"
            error = site.robots_error if site is not None else None
            await self._gc.add(
                url,
                None,
                sig.to_json(),
                lambda part: Done(
                    url,
                    "skipped",
                    sig.decision,
                    error=error,
                    detail=decision.rule,
                    signals=sig.to_json(),
                    part_size=part,
                ),
            )
            return

        dup: list[str] = []

        async def hop_check(target: str) -> str | None:
            why = scope.why_not(target)
            if why:
                return f"out of scope ({why})"
            if target in self._gc.written or frontier.is_known(target) in (
                "done",
                "skipped",
                "failed",
            ):
                dup.append(target)
                return "already fetched as its own URL"
            d = await robots.decision(target)
            return None if d.allowed else f"robots.txt refuses it ({d.rule})"

        types = HTML_TYPES if cfg.html_only else None
        result = await fetcher.get(url, hop_check=hop_check, content_types=types)
        self.progress.bytes += len(result.body)
        if dup:
            self._finish(
                frontier, Done(url, "skipped", "duplicate_of_redirect", detail=dup[0]), room
            )
            return
        if result.error and result.error != "unwanted_type":
            self._finish(
                frontier,
                Done(
                    url,
                    "failed",
                    "error",
                    result.error,
                    result.detail,
                    signals={"redirect_chain": [r.url for r in result.redirects]},
                ),
                room,
            )
            return
        if result.error == "unwanted_type":
            self._finish(frontier, Done(url, "skipped", "not_html", detail=result.detail), room)
            return
        final = result.final_url
        also: tuple[str, ...] = ()
        if final != url:
            final_site = await robots.site(final)
            site = final_site or site
            state = frontier.is_known(final)
            if state in ("done", "skipped", "failed") or final in self._gc.written:
                self._finish(
                    frontier, Done(url, "skipped", "duplicate_of_redirect", detail=final), room
                )
                return
            also = (final,) if state == "pending" else ()
        html = _decode(result.body, result.header("content-type"))
        sig = gather(
            url,
            result,
            site=site,
            robots=decision,
            html=html,
            agents=self.agents,
            directives=cfg.directives,
            depth=row.depth,
        )
        found: tuple[tuple[str, str, int], ...] = ()
        if row.depth < cfg.max_depth:
            found = tuple(
                (u, url_host_key(u), row.depth + 1)
                for u in links(html, final)
                if scope.why_not(u) is None
            )
        drop = sig.reserved and cfg.reserved == "drop"
        if drop:
            sig.decision = "reserved_dropped"
        else:
            sig.decision = "reserved_recorded" if sig.reserved else "fetched"
            self.progress.written += 1
        await self._gc.add(
            url,
            None if drop else result,
            sig.to_json(),
            lambda part: Done(
                url,
                "done",
                sig.decision,
                signals=sig.to_json(),
                warc=part[0],
                bytes=len(result.body),
                part_size=part,
                links=found,
                also_done=also,
            ),
        )

    @property
    def _gc(self) -> GroupCommit:
        if self._commit is None:
            raise RunError("collect pages: the crawl is not running (no WARC writer)")
        return self._commit

    def _finish(self, frontier: Frontier, done: Done, room: int) -> None:
        frontier.finish(done, room=room)
        self._count(done)

    def _count(self, done: Done) -> None:
        self.progress.done += 1
        self.progress.decisions[done.decision] += 1
        if done.error:
            self.progress.errors[done.error] += 1
        if done.part_size is not None:
            self.progress.warc_bytes = done.part_size[1]


def crawl_pages(
    project_dir: str | Path,
    cfg: CollectConfig,
    *,
    on_progress: Callable[[CrawlProgress], None] | None = None,
    stop_after: int | None = None,
) -> CrawlSummary:
    """Crawl one ``[[collect]]`` table of kind pages (resuming where it stopped)."""
    return PageCrawl(project_dir, cfg, on_progress=on_progress).run(stop_after=stop_after)
