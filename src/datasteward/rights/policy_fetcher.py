"""Fetch and cache a site's opt-out policies: ``/robots.txt``, ``/.well-known/tdmrep.json``
and ``/ai.txt``.

Polite by construction: an honest User-Agent (``datasteward/<version> (+<project url>)``),
timeouts, a per-host minimum interval between requests, a size cap, and an on-disk cache
(JSON per origin under the project, default ``.datasteward/cache/optout/``) with a time to live,
so a site is asked once per run, not once per page.

Status handling follows RFC 9309 for robots.txt: 2xx -> the rules; 4xx -> no rules (allowed);
5xx or a network error -> unreachable (everything disallowed). For tdmrep.json and ai.txt a
non-2xx answer or invalid content means "no policy" (TDMRep: "failure to provide access ...
implies that the origin server does not implement this protocol").
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from datasteward._version import __version__
from datasteward.rights.optout_signals import SitePolicies

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/datasteward/datasteward"
USER_AGENT = f"datasteward/{__version__} (+{PROJECT_URL})"
CACHE_SUBDIR = Path(".datasteward") / "cache" / "optout"
MAX_BYTES = 512 * 1024


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased; None if it has no host."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    if not parts.hostname or parts.scheme not in ("http", "https"):
        return None
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


Answer = tuple[int | None, str | None]


def site_policies(robots: Answer, tdmrep: Answer, ai_txt: Answer) -> SitePolicies:
    """A site's policies from the (status, text) answers to its three policy files; a status
    of None is a network error. The one home of the status rules above (the crawler in
    :mod:`datasteward.collect` fetches with its own client and decides here)."""
    status, text = robots
    robots_txt: str | None = None
    unreachable = False
    if status is None or status >= 500:
        unreachable = True
    elif 200 <= status < 300:
        robots_txt = text
    tdm_status, tdm_text = tdmrep
    rules: list[dict[str, Any]] | None = None
    if tdm_status is not None and 200 <= tdm_status < 300 and tdm_text:
        try:
            data = json.loads(tdm_text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, list):
            rules = [r for r in data if isinstance(r, dict)]
    ai_status, ai_text = ai_txt
    ai = ai_text if ai_status is not None and 200 <= ai_status < 300 else None
    return SitePolicies(robots_txt, unreachable, rules, ai)


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = 10.0
    #: Minimum seconds between two requests to the same host.
    min_interval: float = 1.0
    #: How long a cached answer stays valid, in seconds.
    ttl: float = 24 * 3600.0
    user_agent: str = USER_AGENT


class PolicyFetcher:
    """Fetches a site's policy files once, caches them on disk and in memory."""

    def __init__(self, cache_dir: str | Path, options: FetchOptions | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.options = options or FetchOptions()
        self._memory: dict[str, SitePolicies] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._client: Any = None

    @classmethod
    def for_project(
        cls, project_dir: str | Path, options: FetchOptions | None = None
    ) -> PolicyFetcher:
        return cls(Path(project_dir) / CACHE_SUBDIR, options)

    # ---- public ---------------------------------------------------------------------------
    def policies(self, url: str) -> SitePolicies:
        """The policies of the site ``url`` belongs to (cached)."""
        origin = origin_of(url)
        if origin is None:
            return SitePolicies()
        with self._lock:
            if origin in self._memory:
                return self._memory[origin]
            cached = self._read_cache(origin)
            if cached is None:
                cached = self._fetch_all(origin)
                self._write_cache(origin, cached)
            self._memory[origin] = cached
            return cached

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> PolicyFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- fetching -------------------------------------------------------------------------
    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                timeout=self.options.timeout,
                follow_redirects=True,
                max_redirects=5,
                headers={"User-Agent": self.options.user_agent},
            )
            # steps have no teardown hook: close the connections when the fetcher goes away
            weakref.finalize(self, self._client.close)
        return self._client

    def _get(self, origin: str, path: str) -> tuple[int | None, str | None]:
        """(status, text) or (None, None) on a network error. Rate-limited per host."""
        import httpx

        host = urlsplit(origin).netloc
        wait = self._last.get(host, 0.0) + self.options.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            with self._http().stream("GET", origin + path) as resp:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_BYTES:
                        break
                body = b"".join(chunks)[:MAX_BYTES]
                return resp.status_code, body.decode(resp.encoding or "utf-8", "replace")
        except httpx.HTTPError as exc:
            log.info("fetching %s%s failed: %s", origin, path, exc)
            return None, None
        finally:
            self._last[host] = time.monotonic()

    def _fetch_all(self, origin: str) -> SitePolicies:
        return site_policies(
            self._get(origin, "/robots.txt"),
            self._get(origin, "/.well-known/tdmrep.json"),
            self._get(origin, "/ai.txt"),
        )

    # ---- cache ----------------------------------------------------------------------------
    def _cache_file(self, origin: str) -> Path:
        digest = hashlib.sha256(origin.encode()).hexdigest()[:24]
        host = urlsplit(origin).hostname or "host"
        return self.cache_dir / f"{host}-{digest}.json"

    def _read_cache(self, origin: str) -> SitePolicies | None:
        path = self._cache_file(origin)
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        if (
            data.get("origin") != origin
            or time.time() - float(data.get("fetched_at", 0)) > self.options.ttl
        ):
            return None
        return SitePolicies(
            data.get("robots_txt"),
            bool(data.get("robots_unreachable")),
            data.get("tdmrep"),
            data.get("ai_txt"),
        )

    def _write_cache(self, origin: str, policies: SitePolicies) -> None:
        path = self._cache_file(origin)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "origin": origin,
                    "fetched_at": time.time(),
                    "robots_txt": policies.robots_txt,
                    "robots_unreachable": policies.robots_unreachable,
                    "tdmrep": policies.tdmrep,
                    "ai_txt": policies.ai_txt,
                }
            ),
            "utf-8",
        )
        tmp.replace(path)
