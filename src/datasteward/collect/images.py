"""``collect images``: a LAION-style downloader of image URL + caption lists that honours opt-outs.

For each row of the list (:mod:`datasteward.collect.image_list`), in shards of ``shard_size``:

1. politeness and robots: every request (robots.txt, tdmrep.json, ai.txt, the image, each
   redirect hop) goes through the shared :class:`~datasteward.collect.politeness.HostScheduler`
   (one connection per host by default, a minimum delay, ``Crawl-delay``, ``Retry-After``);
   a URL that robots.txt refuses to our agent is not fetched (``robots_disallowed``);
2. opt-outs known before the fetch (robots.txt rules for the listed AI agents, a TDMRep
   ``tdmrep.json`` rule, ``ai.txt``) skip the fetch: ``opted_out``;
3. the image is fetched with the shared :class:`~datasteward.collect.fetch.Fetcher` (timeouts,
   body cap, bounded redirects with each hop checked against robots.txt, retries with backoff);
   an HTTP error is counted as ``http_<status>``, a network failure by its kind (``timeout``,
   ``connect``, ``too_large``...);
4. opt-outs sent with the image (``X-Robots-Tag: noai, noimageai`` — and ``noindex``,
   ``noimageindex``, as img2dataset — and ``tdm-reservation: 1``) drop it unread:
   ``opted_out``;
5. the body is verified, measured, resized and re-encoded in a pool of worker processes
   (:func:`~datasteward.collect.imaging.process_image`); a refusal counts by its reason
   (``not_an_image``, ``corrupt``, ``image_too_large``, ``image_too_small``);
6. the sample goes into the shard (:mod:`datasteward.collect.webdataset_out`): image, caption
   and a JSON with all provenance and every signal; every row, kept or not, is in the shard's
   Parquet index with its decision and signals.

A shard is final once its stats file is written; a killed download resumes with the shards
that are not, without fetching a finished shard's URLs again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from datasteward.collect.fetch import Fetcher, FetchResult
from datasteward.collect.image_list import ImageList, ImageRow, fingerprint
from datasteward.collect.images_job import (
    ACCEPT,
    IMAGE_DIRECTIVES,
    ImagesJob,
    ImagesSummary,
    job_from_config,
)
from datasteward.collect.imaging import ImageRecord, ImageRejected, bound_pixels, process_image
from datasteward.collect.politeness import HostScheduler, url_host_key
from datasteward.collect.robots import RobotsCache, RobotsDecision
from datasteward.collect.signals import UrlSignals, gather
from datasteward.collect.webdataset_out import (
    ShardFiles,
    ShardWriter,
    read_stats,
    sample_key,
    write_index,
)
from datasteward.errors import RunError
from datasteward.workers import die_with_parent

log = logging.getLogger(__name__)

#: Response headers kept in a sample's JSON.
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "last-modified",
    "etag",
    "x-robots-tag",
    "tdm-reservation",
    "tdm-policy",
    "link",
    "cache-control",
    "content-disposition",
    "server",
)
#: The collect's own settings file in its output folder (a resume must match it).
SETTINGS_FILE = "collect.json"

Progress = Callable[[str, int], None]


def _init_decoder(max_pixels: int) -> None:
    """An image worker's initializer: end with the collect, bound Pillow's decoding."""
    die_with_parent()
    bound_pixels(max_pixels)


def _pool(processes: int, max_pixels: int) -> Executor:
    # forkserver: the workers do not inherit the event loop, its threads or open sockets
    ctx = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(
        max_workers=max(1, processes),
        mp_context=ctx,
        initializer=_init_decoder,
        initargs=(max_pixels,),
    )


def _headers(result: FetchResult) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in result.headers:
        low = name.lower()
        if low in KEPT_HEADERS:
            out[low] = f"{out[low]}, {value}" if low in out else value
    return out


def _reason(result: FetchResult) -> str:
    if result.status is not None and result.status >= 400:
        return f"http_{result.status}"
    return result.error or "error"


class _PoolFailed(Exception):
    """The decode workers cannot run: the whole download stops (finished shards are kept)."""


class _Run:
    """One download: the shared fetch layer, the decode pool and the open shard writers."""

    def __init__(
        self, job: ImagesJob, images: ImageList, pending: list[int], progress: Progress | None
    ) -> None:
        self.job = job
        self.images = images
        self.pending = pending
        self.progress = progress
        self.writers: dict[int, ShardWriter] = {}
        self.left: dict[int, int] = {}
        self.counts: Counter[str] = Counter()
        self.fetched_bytes = 0
        self.requests = 0
        self.agents = tuple(dict.fromkeys(job.ai_agents))
        #: Whom a header like ``X-Robots-Tag: <agent>: noimageai`` may name: us, or an AI agent.
        self.signal_agents = tuple(dict.fromkeys((job.agent, *job.ai_agents)))

    async def run(self, pool: Executor) -> None:
        job = self.job
        sched = HostScheduler(job.politeness)
        hosts = {url_host_key(u) for s in self.pending for u in self.images.shard_urls(s)}
        sched.hold_all([h for h in hosts if h])  # a killed run may just have asked them
        async with Fetcher(sched, job.fetch) as fetcher:
            robots = RobotsCache(fetcher, agent=job.agent, ai_agents=self.agents)
            window = asyncio.Semaphore(max(1, job.window))
            tasks: set[asyncio.Task[None]] = set()
            try:
                for shard in self.pending:
                    self.left[shard] = self.images.shard_len(shard)
                    self.writers[shard] = ShardWriter(
                        ShardFiles(job.output, shard),
                        info={"collect": job.name, "input": str(job.urls)},
                    )
                    for row in self.images.shard_rows(shard):
                        await window.acquire()
                        task = asyncio.create_task(self._one(row, fetcher, robots, sched, pool))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                        task.add_done_callback(lambda _t: window.release())
                if tasks:
                    await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()
                for writer in self.writers.values():
                    writer.abort()
            self.requests = fetcher.requests

    async def _one(
        self,
        row: ImageRow,
        fetcher: Fetcher,
        robots: RobotsCache,
        sched: HostScheduler,
        pool: Executor,
    ) -> None:
        key = sample_key(row.shard, row.row)
        meta: dict[str, Any] = {"key": key, "url": row.url, "caption": row.caption}
        if row.extra:
            meta["input"] = row.extra
        try:
            outcome = await self._fetch_and_decode(row, meta, fetcher, robots, sched, pool)
        except _PoolFailed:
            raise  # the workers are gone: no row could be decoded; stop (see collect_images)
        except Exception as exc:  # noqa: BLE001 - one bad row never stops the download
            log.exception("collect images: unexpected error on %s", row.url)
            outcome = ("error", None)
            meta["error"] = f"{type(exc).__name__}: {exc}"
        reason, record = outcome
        writer = self.writers[row.shard]
        if record is not None:
            meta["image"] = record.measures()
            writer.add(
                key,
                row.row,
                image=record.data,
                ext=record.ext,
                caption=row.caption,
                meta=meta,
                mtime=time.time(),
            )
            self.counts["success"] += 1
        else:
            writer.fail(key, row.row, reason=reason, meta=meta)
            self.counts[reason] += 1
        if self.progress is not None:
            self.progress("success" if record is not None else reason, 1)
        self.left[row.shard] -= 1
        if self.left[row.shard] == 0:
            self.writers.pop(row.shard).close()

    async def _fetch_and_decode(
        self,
        row: ImageRow,
        meta: dict[str, Any],
        fetcher: Fetcher,
        robots: RobotsCache,
        sched: HostScheduler,
        pool: Executor,
    ) -> tuple[str, ImageRecord | None]:
        from datasteward.collect.fetch import check_url

        bad = check_url(row.url) if row.url else ("bad_url", "the row has no URL")
        if bad is not None:
            kind, detail = bad
            meta["error"] = detail
            meta["decision"] = "skipped"
            return kind, None
        job = self.job
        decision = await robots.decision(row.url)
        site = await robots.site(row.url)
        host = url_host_key(row.url)
        if decision.crawl_delay:
            sched.set_crawl_delay(host, decision.crawl_delay)
        if decision.own_refused:
            return self._refused(row, meta, decision, site)
        # opt-outs known before the fetch: robots.txt for the AI agents, tdmrep.json, ai.txt
        before = gather(
            row.url,
            None,
            site=site,
            robots=decision,
            html=None,
            agents=self.signal_agents,
            directives=job.directives,
        )
        if before.reserved:
            before.decision = "reserved_dropped"
            meta["signals"] = before.to_json()
            meta["decision"] = "opted_out"
            meta["error"] = "; ".join(o["detail"] for o in before.optout)
            return "opted_out", None

        async def hop_check(target: str) -> str | None:
            hop = await robots.decision(target)
            if hop.own_refused:
                return f"robots.txt of {url_host_key(target)} disallows it ({hop.rule})"
            return None

        result = await fetcher.get(row.url, hop_check=hop_check, accept=ACCEPT)
        self.fetched_bytes += result.wire_bytes
        final_site = site if result.final_url == row.url else await robots.site(result.final_url)
        sig = gather(
            row.url,
            result,
            site=final_site,
            robots=decision,
            html=None,
            agents=self.signal_agents,
            directives=job.directives,
        )
        meta["retrieved_at"] = sig.retrieved_at
        meta["http"] = {
            "status": result.status,
            "final_url": result.final_url,
            "headers": _headers(result),
            "redirects": sig.redirect_chain,
            "attempts": result.attempts,
            "http_version": result.http_version,
        }
        if not result.ok:
            sig.decision = "error"
            meta["signals"] = sig.to_json()
            meta["decision"] = "error"
            meta["error"] = result.detail or f"HTTP {result.status}"
            return _reason(result), None
        if sig.reserved:
            sig.decision = "reserved_dropped"
            meta["signals"] = sig.to_json()
            meta["decision"] = "opted_out"
            meta["error"] = "; ".join(o["detail"] for o in sig.optout)
            return "opted_out", None
        meta["signals"] = sig.to_json()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(pool, process_image, result.body, job.image)
        except (RuntimeError, OSError) as exc:  # a worker process could not start
            raise _PoolFailed(f"{type(exc).__name__}: {str(exc).strip()[:300]}") from exc
        try:
            record = await future
        except ImageRejected as exc:
            meta["decision"] = "refused"
            meta["error"] = exc.detail
            return exc.reason, None
        except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
            raise _PoolFailed(f"a worker process died: {exc}") from exc
        meta["decision"] = "kept"
        return "success", record

    @staticmethod
    def _refused(
        row: ImageRow, meta: dict[str, Any], decision: RobotsDecision, site: Any
    ) -> tuple[str, None]:
        sig = UrlSignals(url=row.url, robots=decision.to_json(), decision="robots_refused")
        if site is not None:
            sig.notes.extend(site.notes)
        meta["signals"] = sig.to_json()
        meta["decision"] = "robots_refused"
        meta["error"] = f"robots.txt disallows it for our agent ({decision.rule})"
        return ("robots_unreachable" if decision.unreachable else "robots_disallowed"), None


def _check_settings(job: ImagesJob, images: ImageList) -> None:
    path = job.output / SETTINGS_FILE
    settings = job.settings() | {"urls_sha256": fingerprint(images.path), "rows": images.rows}
    if path.is_file():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in settings if before.get(k) != settings[k])
        if changed and read_stats(job.output):
            raise RunError(
                f"collect `{job.name}`: {job.output} holds shards of another download "
                f"({', '.join(changed)} changed since)",
                hint="restore the settings to resume, or give the collect another `output` "
                "folder (or delete this one) to start again",
            )
    job.output.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2, sort_keys=True), encoding="utf-8")


def collect_images(
    job: ImagesJob,
    *,
    progress: Progress | None = None,
    limit_shards: int | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImagesSummary:
    """Download the images of ``job`` (resuming: finished shards are not fetched again).

    ``progress(outcome, n)`` is called per row (``success`` or the failure reason);
    ``on_start(rows)`` once, with the rows this run will do; ``limit_shards`` stops after
    that many shards (the next run goes on)."""
    problems = job.image.problems()
    if job.shard_size < 1:
        problems.append(f"shard_size must be at least 1, got {job.shard_size}")
    if problems:
        raise RunError(
            f"collect `{job.name}`: " + "; ".join(problems),
            hint="fix these options in its [[collect]] table",
        )
    images = ImageList.open(
        job.urls,
        url_field=job.url_field,
        caption_field=job.caption_field,
        shard_size=job.shard_size,
    )
    _check_settings(job, images)
    done = [s for s in range(images.shards) if ShardFiles(job.output, s).done()]
    pending = [s for s in range(images.shards) if s not in set(done)]
    if limit_shards is not None:
        pending = pending[:limit_shards]
    for s in pending:
        ShardFiles(job.output, s).clear_partial()
    summary = ImagesSummary(
        output=job.output,
        shards=images.shards,
        shards_done_before=len(done),
        rows=sum(images.shard_len(s) for s in pending),
    )
    if on_start is not None:
        on_start(summary.rows)
    started = time.monotonic()
    if pending:
        run = _Run(job, images, pending, progress)
        try:
            with _pool(job.processes, job.image.max_pixels) as pool:
                asyncio.run(run.run(pool))
        except _PoolFailed as exc:
            raise RunError(
                f"collect `{job.name}`: the image decoding processes failed ({exc}); "
                f"{len(read_stats(job.output))} finished shards are kept in {job.output}",
                hint="run it again to go on; from a Python script, call collect_images under "
                '`if __name__ == "__main__":` (the worker processes import the main module)',
            ) from None
        summary.success = run.counts.pop("success", 0)
        summary.failures = run.counts
        summary.fetched_bytes = run.fetched_bytes
        summary.requests = run.requests
    summary.seconds = time.monotonic() - started
    for stats in read_stats(job.output):
        summary.total_rows += int(stats["rows"])
        summary.total_success += int(stats["success"])
        summary.total_failures.update(stats.get("failures") or {})
    write_index(job.output)
    return summary


__all__ = [
    "ACCEPT",
    "IMAGE_DIRECTIVES",
    "KEPT_HEADERS",
    "ImagesJob",
    "ImagesSummary",
    "collect_images",
    "job_from_config",
]
