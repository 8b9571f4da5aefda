"""Group commit of crawled pages: WARC first, then the frontier.

A background flusher takes every page queued since its last round, appends their records to
the WARC part, fsyncs it (in a thread, so the hosts go on fetching), and then commits them to
the frontier in ONE transaction (done, the part's committed size, the links found). A crash
at any point leaves the frontier behind the WARC, never ahead of it; the resume cuts the
WARC back to the committed size. If a round fails, the writer refuses every later page (the
tail is cut on resume) and the error surfaces at the next :meth:`add` or :meth:`drained`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from datasteward.collect.fetch import FetchResult
from datasteward.collect.frontier import Done, Frontier
from datasteward.collect.warc_out import WarcWriter

#: Builds a page's frontier entry once its records have a place: (part name, part size).
MakeDone = Callable[[tuple[str, int]], Done]


class GroupCommit:
    """Queue pages for the WARC and the frontier; see the module docstring."""

    def __init__(
        self,
        frontier: Frontier,
        writer: WarcWriter,
        *,
        room: int,
        on_done: Callable[[Done], None],
        max_queued: int = 64,
    ) -> None:
        self.frontier = frontier
        self.writer = writer
        self.room = room
        self.on_done = on_done
        self.max_queued = max_queued
        self._queue: list[tuple[str, FetchResult | None, dict[str, Any], MakeDone]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: URLs whose pages are queued or written (a redirect to one is not fetched again).
        self.written: set[str] = set()

    @property
    def busy(self) -> bool:
        return self._flusher is not None and not self._flusher.done()

    async def add(
        self, url: str, result: FetchResult | None, signals: dict[str, Any], done: MakeDone
    ) -> None:
        """Queue one page (``result`` None: its metadata record only); with too much queued
        this waits, so memory stays bounded."""
        self._raise_failed()
        self._queue.append((url, result, signals, done))
        self.written.add(url)
        if result is not None:
            self.written.add(result.final_url)
        if not self.busy:
            self._flusher = asyncio.create_task(self._drain())
        while len(self._queue) > self.max_queued and self.busy:
            await asyncio.sleep(0.005)

    async def drained(self) -> None:
        """Wait until every queued page is committed (re-raises a failed round)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait([self._flusher])
        self._raise_failed()

    def _raise_failed(self) -> None:
        if self._flusher is not None and self._flusher.done():
            exc = self._flusher.exception()
            if exc is not None:
                raise exc

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                dones = [
                    done(self.writer.append(url, result, signals, sync=False))
                    for url, result, signals, done in batch
                ]
                await asyncio.to_thread(self.writer.sync)
                self.frontier.finish_many(dones, room=self.room)
            except BaseException:
                self.writer.abandon()  # nothing more is written; resume cuts the tail
                self._queue = []
                raise
            for d in dones:
                self.on_done(d)
