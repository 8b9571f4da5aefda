"""Collection with consent: a polite crawler that records what sites say at fetch time.

The shared politeness and fetch layer (used by ``collect pages`` and ``collect images``):

* :class:`~datasteward.collect.politeness.HostScheduler` / ``Politeness`` — one connection
  per host, a minimum delay, ``Crawl-delay``, ``Retry-After``, global concurrency;
* :class:`~datasteward.collect.fetch.Fetcher` / ``FetchOptions`` / ``FetchResult`` — httpx
  async GETs with timeouts, bounded redirects (chain recorded), a body cap on the decoded
  body, retries with backoff, errors counted by kind (``ERROR_KINDS``);
* :class:`~datasteward.collect.robots.RobotsCache` — robots.txt (RFC 9309, protego),
  tdmrep.json and ai.txt per origin, cached at most 24 h;
* :func:`~datasteward.collect.signals.gather` / ``UrlSignals`` — the per-URL signals record,
  decided by :mod:`datasteward.rights.optout_signals`.

Typical use::

    sched = HostScheduler(Politeness(min_delay=1.0, concurrency=16))
    async with Fetcher(sched, FetchOptions(user_agent=user_agent(contact))) as fetcher:
        robots = RobotsCache(fetcher, agent="datasteward", ai_agents=AI_AGENTS)
        decision = await robots.decision(url)
        if decision.allowed:
            result = await fetcher.get(url, hop_check=...)
            sig = gather(url, result, site=await robots.site(url), robots=decision,
                         html=..., agents=AI_AGENTS)
"""

from __future__ import annotations

from datasteward.collect.fetch import (
    ERROR_KINDS,
    Fetcher,
    FetchOptions,
    FetchResult,
    Redirect,
    user_agent,
)
from datasteward.collect.politeness import HostScheduler, Politeness, url_host_key
from datasteward.collect.robots import RobotsCache, RobotsDecision, SiteRules
from datasteward.collect.signals import UrlSignals, gather

__all__ = [
    "ERROR_KINDS",
    "FetchOptions",
    "FetchResult",
    "Fetcher",
    "HostScheduler",
    "Politeness",
    "Redirect",
    "RobotsCache",
    "RobotsDecision",
    "SiteRules",
    "UrlSignals",
    "gather",
    "url_host_key",
    "user_agent",
]
