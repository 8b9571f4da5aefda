"""Per-host politeness: one connection per host, a minimum delay between two requests to a
host (raised by robots.txt ``Crawl-delay`` and by ``Retry-After``), and a global cap on
requests in flight across hosts.

Shared by ``collect pages`` and ``collect images``::

    sched = HostScheduler(Politeness(min_delay=1.0, concurrency=16))
    async with sched.slot(host):        # waits for the host's turn and a global slot
        response = await fetch(...)     # the delay counts from the END of this block
    sched.defer(host, 30.0)             # e.g. a Retry-After: the host waits 30 s more

``host`` is any key (``url_host_key`` gives ``host[:port]``, lower-cased). Times are
``time.monotonic()``; the scheduler is for one event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Politeness:
    """How hard the crawler may press on sites."""

    #: Seconds between the end of one request to a host and the start of the next.
    min_delay: float = 1.0
    #: Requests in flight to one host at a time (1: one connection per host).
    per_host: int = 1
    #: Requests in flight across all hosts.
    concurrency: int = 16
    #: Honour robots.txt ``Crawl-delay`` (a larger delay wins), capped at ``max_crawl_delay``.
    crawl_delay: bool = True
    max_crawl_delay: float = 60.0


def url_host_key(url: str) -> str:
    """The politeness key of a URL: ``host[:port]`` lower-cased (``""`` if it has none)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


class _Host:
    __slots__ = ("delay", "in_flight", "next_at", "sem")

    def __init__(self, per_host: int, delay: float) -> None:
        self.sem = asyncio.Semaphore(per_host)
        self.delay = delay
        self.next_at = 0.0
        self.in_flight = 0


class HostScheduler:
    """Grants request slots so that no host is asked more often than it allows."""

    def __init__(self, politeness: Politeness | None = None) -> None:
        self.politeness = politeness or Politeness()
        self._hosts: dict[str, _Host] = {}
        self._global = asyncio.Semaphore(max(1, self.politeness.concurrency))

    def _host(self, host: str) -> _Host:
        h = self._hosts.get(host)
        if h is None:
            h = _Host(max(1, self.politeness.per_host), self.politeness.min_delay)
            self._hosts[host] = h
        return h

    # ---- what a host allows --------------------------------------------------------------
    def set_crawl_delay(self, host: str, seconds: float | None) -> None:
        """Raise the host's delay to its robots.txt ``Crawl-delay`` (capped), if honoured."""
        p = self.politeness
        if seconds is None or not p.crawl_delay or seconds <= 0:
            return
        h = self._host(host)
        new = max(p.min_delay, min(float(seconds), p.max_crawl_delay))
        if new > h.delay and h.next_at:  # the wait already running grows too
            h.next_at += new - h.delay
        h.delay = new

    def delay_of(self, host: str) -> float:
        return self._host(host).delay

    def defer(self, host: str, seconds: float) -> None:
        """The host's next request waits at least ``seconds`` from now (Retry-After)."""
        h = self._host(host)
        h.next_at = max(h.next_at, time.monotonic() + max(0.0, seconds))

    def hold_all(self, hosts: list[str] | None = None) -> None:
        """Each host (known, or listed) waits one full delay from now: used when a crawl
        resumes, since the killed process may have just asked it."""
        now = time.monotonic()
        for key in hosts if hosts is not None else list(self._hosts):
            h = self._host(key)
            h.next_at = max(h.next_at, now + h.delay)

    # ---- slots ---------------------------------------------------------------------------
    @property
    def hosts_active(self) -> int:
        """Hosts with a request in flight now."""
        return sum(1 for h in self._hosts.values() if h.in_flight)

    def ready_in(self, host: str) -> float:
        """Seconds until ``host`` may be asked again (0 if now)."""
        return max(0.0, self._host(host).next_at - time.monotonic())

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Wait for the host's turn (its delay since its last request ended) and a global
        slot; the host's delay starts again when the block ends (whatever happened)."""
        h = self._host(host)
        async with h.sem:
            while True:
                wait = h.next_at - time.monotonic()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            async with self._global:
                # a Retry-After may have arrived while this one waited for a global slot
                while (wait := h.next_at - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                h.in_flight += 1
                try:
                    yield
                finally:
                    h.in_flight -= 1
                    h.next_at = max(h.next_at, time.monotonic() + h.delay)
