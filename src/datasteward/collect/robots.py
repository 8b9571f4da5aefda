"""Site policies per origin, fetched politely and cached: ``/robots.txt`` (RFC 9309),
``/.well-known/tdmrep.json`` and ``/ai.txt``.

* robots.txt: 2xx -> its rules; 4xx -> no rules (everything allowed); 5xx, 429 or a network
  error -> "unreachable": everything disallowed (the status rules live in
  :func:`datasteward.rights.policy_fetcher.site_policies`). An HTML answer (a soft 404) has no
  rules. A file over 500 KiB is cut at the last line before 500 KiB (RFC 9309 2.5: a crawler
  parses at least 500 KiB); redirects are followed (up to five hops).
* Cached in memory and, with a :class:`PolicyStore` (the crawl frontier is one), on disk, for
  at most 24 hours (RFC 9309 2.4), so a resumed crawl does not ask again.
* :meth:`RobotsCache.decision` answers "may this agent fetch this URL?" for our own agent and
  for every AI-training agent the stewards list, naming the group and rule that matched.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from datasteward.collect.fetch import Fetcher
from datasteward.collect.politeness import url_host_key
from datasteward.rights.optout_signals import SitePolicies, robots_disallows
from datasteward.rights.policy_fetcher import origin_of, site_policies

#: RFC 9309 2.4: a cached robots.txt is used for at most 24 hours.
MAX_TTL = 24 * 3600.0
#: RFC 9309 2.5: parse at least the first 500 KiB.
ROBOTS_MAX_BYTES = 500 * 1024
#: tdmrep.json and ai.txt are small files; more is not a policy.
POLICY_MAX_BYTES = 256 * 1024


@dataclass
class SiteRules:
    """One origin's policies as fetched, and what was odd about them."""

    origin: str
    policies: SitePolicies
    fetched_at: float
    robots_status: int | None = None
    notes: list[str] = field(default_factory=list)
    #: Why robots.txt could not be read (an error kind of the fetcher), if it could not.
    robots_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "fetched_at": self.fetched_at,
            "robots_status": self.robots_status,
            "notes": self.notes,
            "robots_error": self.robots_error,
            "policies": asdict(self.policies),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteRules:
        p = data.get("policies") or {}
        return cls(
            origin=str(data["origin"]),
            policies=SitePolicies(
                p.get("robots_txt"),
                bool(p.get("robots_unreachable")),
                p.get("tdmrep"),
                p.get("ai_txt"),
            ),
            fetched_at=float(data["fetched_at"]),
            robots_status=data.get("robots_status"),
            notes=list(data.get("notes") or []),
            robots_error=data.get("robots_error"),
        )


@dataclass(frozen=True)
class RobotsDecision:
    """May we fetch a URL? ``blocked_by`` names the agents robots.txt refuses it to."""

    allowed: bool
    #: Our own agent is refused (we never fetch then).
    own_refused: bool
    blocked_by: tuple[str, ...] = ()
    #: The group (``User-agent`` value) and rule that decided, for the first agent blocked.
    group: str | None = None
    rule: str | None = None
    unreachable: bool = False
    crawl_delay: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "own_agent_refused": self.own_refused,
            "blocked_agents": list(self.blocked_by),
            "group": self.group,
            "rule": self.rule,
            "unreachable": self.unreachable,
        }


class PolicyStore(Protocol):
    """Where site rules persist between runs (e.g. the crawl frontier)."""

    def load_site(self, origin: str) -> dict[str, Any] | None: ...

    def save_site(self, origin: str, data: dict[str, Any]) -> None: ...


def _looks_html(text: str, content_type: str) -> bool:
    if "html" in content_type:
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype", "<html", "<head", "<body", "<?xml"))


def _parser(text: str) -> Any:
    from protego import Protego

    return Protego.parse(text)


def matching_rule(parser: Any, url: str, agent: str) -> tuple[str | None, str | None]:
    """(group, rule) of robots.txt that decide ``url`` for ``agent``, e.g.
    ``("gptbot", "Disallow: /private")``; (None, None) if no rule matched. Reads protego's
    rule sets (no public API names the rule); degrades to (group, None) if they change."""
    try:
        from protego._utils import _quote_path  # noqa: PLC2701 - no public equivalent

        rule_set = parser._get_matching_rule_set(agent)
        if rule_set is None:
            return None, None
        quoted = _quote_path(url)
        for rule in rule_set._rules:
            if rule.value.match(quoted):
                return rule_set.user_agent, f"{rule.field.capitalize()}: {rule.value._pattern}"
        return rule_set.user_agent, None
    except (AttributeError, ImportError, TypeError):
        return None, None


class RobotsCache:
    """Fetches and caches site policies per origin, through the fetcher's politeness."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        agent: str = "datasteward",
        ai_agents: tuple[str, ...] = (),
        ttl: float = MAX_TTL,
        store: PolicyStore | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.agent = agent
        self.ai_agents = tuple(a for a in ai_agents if a.lower() != agent.lower())
        self.ttl = min(ttl, MAX_TTL)
        self.store = store
        self._sites: dict[str, SiteRules] = {}
        self._parsers: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def site(self, url: str) -> SiteRules | None:
        """The policies of the origin of ``url`` (fetched once per TTL); None without one."""
        origin = origin_of(url)
        if origin is None:
            return None
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            rules = self._sites.get(origin)
            now = time.time()
            if rules is None and self.store is not None:
                stored = self.store.load_site(origin)
                if stored is not None:
                    rules = SiteRules.from_json(stored)
            if rules is None or now - rules.fetched_at > self.ttl:
                rules = await self._fetch(origin)
                if self.store is not None:
                    self.store.save_site(origin, rules.to_json())
            if self._sites.get(origin) is not rules:
                self._sites[origin] = rules
                self._parsers.pop(origin, None)
                self._apply_crawl_delay(url, rules)
            return rules

    def _apply_crawl_delay(self, url: str, rules: SiteRules) -> None:
        """The host's ``Crawl-delay`` for our agent holds from now on (the scheduler caps it)."""
        if rules.policies.robots_txt:
            delay = self._parser_for(rules).crawl_delay(self.agent)
            self.fetcher.scheduler.set_crawl_delay(url_host_key(url), delay)

    async def _fetch(self, origin: str) -> SiteRules:
        notes: list[str] = []
        got = await self.fetcher.get(
            origin + "/robots.txt",
            accept="text/plain, */*;q=0.5",
            max_bytes=ROBOTS_MAX_BYTES,
            truncate=True,
            retries=1,
        )
        status = got.status if got.error in (None, "http_4xx") else None
        if got.status == 429:
            status = None  # "too many requests" is not "no rules": treat as unreachable
        text = got.body.decode("utf-8", "replace") if status else None
        if got.error and got.error != "http_4xx":
            notes.append(f"robots.txt: {got.error} ({got.detail})")
        if text is not None and status is not None and 200 <= status < 300:
            if got.truncated:
                text = text[: text.rfind("\n") + 1] if "\n" in text else ""
                notes.append(
                    f"robots.txt over {ROBOTS_MAX_BYTES} bytes: the first "
                    f"{len(text.encode())} bytes were parsed (RFC 9309 2.5)"
                )
            if _looks_html(text, got.content_type):
                notes.append("robots.txt is HTML, not robots rules: no rules apply")
                text = ""
        if text:  # Crawl-delay holds for the policy files asked next, too
            delay = _parser(text).crawl_delay(self.agent)
            self.fetcher.scheduler.set_crawl_delay(url_host_key(origin), delay)
        # robots.txt unreachable: everything is disallowed, so nothing more is asked of the host
        paths = () if status is None else ("/.well-known/tdmrep.json", "/ai.txt")
        answers: list[tuple[int | None, str | None]] = [(None, None), (None, None)]
        for k, path in enumerate(paths):
            r = await self.fetcher.get(
                origin + path, accept="*/*", max_bytes=POLICY_MAX_BYTES, retries=1
            )
            ok = r.error is None or r.error == "http_4xx"
            body = r.body.decode("utf-8", "replace") if ok else None
            if path == "/ai.txt" and body is not None and _looks_html(body, r.content_type):
                body = None
            answers[k] = (r.status if ok else None, body)
        policies = site_policies((status, text), answers[0], answers[1])
        error = got.error if got.error not in (None, "http_4xx") else None
        if got.status == 429:
            error = "http_429"
        return SiteRules(origin, policies, time.time(), got.status, notes, error)

    def _parser_for(self, rules: SiteRules) -> Any:
        p = self._parsers.get(rules.origin)
        if p is None:
            p = _parser(rules.policies.robots_txt or "")
            self._parsers[rules.origin] = p
        return p

    async def decision(self, url: str) -> RobotsDecision:
        """May ``url`` be fetched by our agent and by every listed AI agent?"""
        rules = await self.site(url)
        if rules is None:
            return RobotsDecision(allowed=False, own_refused=True, rule="no origin")
        pol = rules.policies
        if pol.robots_unreachable:
            return RobotsDecision(
                allowed=False,
                own_refused=True,
                unreachable=True,
                rule=f"robots.txt unreachable (status {rules.robots_status}"
                "; RFC 9309: assume disallow)",
            )
        text = pol.robots_txt or ""
        parser = self._parser_for(rules)
        delay = parser.crawl_delay(self.agent) if text else None
        if urlsplit(url).path == "/robots.txt" or not text:
            return RobotsDecision(allowed=True, own_refused=False, crawl_delay=delay)
        blocked = robots_disallows(text, url, (self.agent, *self.ai_agents))
        if not blocked:
            group, rule = matching_rule(parser, url, self.agent)
            return RobotsDecision(
                allowed=True, own_refused=False, group=group, rule=rule, crawl_delay=delay
            )
        group, rule = matching_rule(parser, url, blocked[0])
        return RobotsDecision(
            allowed=False,
            own_refused=self.agent in blocked,
            blocked_by=tuple(blocked),
            group=group,
            rule=rule,
            crawl_delay=delay,
        )
