"""Opt-out signals: does a page's owner reserve it from AI training / text and data mining?

Four signals, each decided from what was collected with the record (HTTP headers, HTML, and
site policies fetched by :mod:`datasteward.rights.policy_fetcher` or stored in the record's
metadata):

``optout_tdmrep``
    The W3C TDM Reservation Protocol (Community Group final report). ``tdm-reservation: 1``
    reserves TDM rights; ``0`` says they are not reserved; other values are protocol errors
    and count as unset. Precedence, per the report's "processing priority": the site file
    ``/.well-known/tdmrep.json`` (its first matching rule) is superseded by the
    ``tdm-reservation`` / ``tdm-policy`` response headers, which are superseded by the HTML
    ``<meta name="tdm-reservation">`` / ``tdm-policy``.
``optout_x_robots_tag``
    ``X-Robots-Tag: noai`` (or ``noimageai`` when configured), for all robots or scoped to one
    crawler of the AI list (``X-Robots-Tag: GPTBot: noai``); also the same directives in
    ``<meta name="robots">`` or a meta tag named for a crawler of the list.
``optout_robots``
    robots.txt (parsed with ``protego``) disallows the page's URL for one of the AI crawlers
    (their own group, or ``*`` when they have none — that is what robots.txt means for them).
``optout_ai_txt``
    Spawning's ``/ai.txt`` (robots.txt syntax, usually ``User-Agent: *`` with ``Disallow:``
    patterns by file type) disallows the URL.

A record is removed if any signal opts out; the reason is the first in the order above
(a TDM reservation is the legal opt-out under Art. 4 of the EU DSM Directive), and the detail
names every signal that fired with its agent and rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

#: AI crawlers and AI-training user-agent tokens (robots.txt product tokens), maintained here.
#: Sources: the crawlers' own documentation and the ai.robots.txt community list.
AI_AGENTS: tuple[str, ...] = (
    "CCBot",
    "GPTBot",
    "ChatGPT-User",
    "OAI-SearchBot",
    "Google-Extended",
    "GoogleOther",
    "ClaudeBot",
    "Claude-Web",
    "anthropic-ai",
    "Applebot-Extended",
    "PerplexityBot",
    "Perplexity-User",
    "Bytespider",
    "meta-externalagent",
    "meta-externalfetcher",
    "FacebookBot",
    "cohere-ai",
    "cohere-training-data-crawler",
    "Diffbot",
    "Omgilibot",
    "omgili",
    "Amazonbot",
    "YouBot",
    "AI2Bot",
    "Ai2Bot-Dolma",
    "ImagesiftBot",
    "Timpibot",
    "PetalBot",
    "img2dataset",
    "Kangaroo Bot",
    "DuckAssistBot",
    "MistralAI-User",
)

NOAI_DIRECTIVES: tuple[str, ...] = ("noai",)
_NOT_AGENTS = {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}

REASONS = ("optout_tdmrep", "optout_x_robots_tag", "optout_robots", "optout_ai_txt")


@dataclass(frozen=True)
class SitePolicies:
    """A site's policy files, as fetched (None: absent or not fetched)."""

    robots_txt: str | None = None
    #: Whether robots.txt was unreachable (5xx / network error): RFC 9309 says assume
    #: everything is disallowed.
    robots_unreachable: bool = False
    tdmrep: list[dict[str, Any]] | None = None
    ai_txt: str | None = None


@dataclass
class OptOut:
    """The opt-out decision for one record."""

    reasons: list[tuple[str, str]] = field(default_factory=list)  # (reason, detail)
    #: The TDM reservation in force (1, 0 or None for unset) and where it came from.
    tdm_reservation: int | None = None
    tdm_from: str | None = None
    tdm_policy: str | None = None

    @property
    def opted_out(self) -> bool:
        return bool(self.reasons)

    @property
    def reason(self) -> str | None:
        if not self.reasons:
            return None
        return min(self.reasons, key=lambda r: REASONS.index(r[0]))[0]

    @property
    def detail(self) -> str | None:
        if not self.reasons:
            return None
        ordered = sorted(self.reasons, key=lambda r: REASONS.index(r[0]))
        return "; ".join(f"{r}: {d}" for r, d in ordered)


# ---- TDMRep ------------------------------------------------------------------------------------
def tdm_value(raw: object) -> int | None:
    """``tdm-reservation`` as 1 / 0, or None (unset) for a missing or invalid value."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw in (0, 1) else None
    if isinstance(raw, str) and raw.strip() in ("0", "1"):
        return int(raw.strip())
    return None


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A robots.txt-style path pattern (``*`` any run, ``$`` end) as a regex (Google's rules)."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(unquote(part)) for part in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""))


def tdmrep_rule(rules: Sequence[dict[str, Any]], url: str) -> dict[str, Any] | None:
    """The first rule of a ``tdmrep.json`` whose ``location`` matches the URL's path."""
    parts = urlsplit(url)
    path = unquote(parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        loc = rule.get("location")
        if not isinstance(loc, str) or not loc:
            continue
        if not loc.startswith(("/", "*")):
            loc = "/" + loc
        if _pattern_regex(loc).match(path):
            return rule
    return None


def tdm_decision(
    url: str | None,
    headers: list[tuple[str, str]],
    meta_reservation: str | None,
    meta_policy: str | None,
    site_rules: Sequence[dict[str, Any]] | None,
) -> tuple[int | None, str | None, str | None]:
    """(reservation, where it came from, policy URL) after the TDMRep processing priority."""
    value: int | None = None
    where: str | None = None
    policy: str | None = None
    if site_rules is not None and url:
        rule = tdmrep_rule(site_rules, url)
        if rule is not None:
            value = tdm_value(rule.get("tdm-reservation"))
            where = f"tdmrep.json location {rule.get('location')!r}"
            policy = rule.get("tdm-policy") if isinstance(rule.get("tdm-policy"), str) else None
    head = [v for n, v in headers if n == "tdm-reservation"]
    if head:
        value, where = tdm_value(head[-1]), f"header tdm-reservation: {head[-1].strip()}"
        pol = [v for n, v in headers if n == "tdm-policy"]
        policy = pol[-1].strip() if pol else None
    if meta_reservation is not None:
        value, where = tdm_value(meta_reservation), f"meta tdm-reservation={meta_reservation!r}"
        policy = meta_policy
    if value != 1:
        policy = None  # a policy only matters when rights are reserved
    return value, where, policy


# ---- X-Robots-Tag and robots meta -------------------------------------------------------------
def parse_x_robots_tag(value: str) -> list[tuple[str | None, str]]:
    """``X-Robots-Tag`` -> [(agent or None, directive)].

    ``GPTBot: noai, noimageai`` scopes both directives to GPTBot. Readers that join repeated
    headers with ", " (the WARC source does) give ``noindex, GPTBot: noai``: a new
    ``agent:`` prefix starts a new scope, so each directive keeps the agent it was sent for.
    ``unavailable_after: <date>`` and ``max-*: <n>`` are directives with values, not agents.
    """
    out: list[tuple[str | None, str]] = []
    agent: str | None = None
    for part in value.split(","):
        text = part.strip()
        m = re.match(r"^([A-Za-z][A-Za-z0-9_.\-]*)\s*:\s*(.*)$", text)
        if m and m.group(1).lower() not in _NOT_AGENTS:
            agent, text = m.group(1).strip(), m.group(2).strip()
        directive = text.lower()
        if directive:
            out.append((agent, directive))
    return out


def noai_hits(
    pairs: Sequence[tuple[str | None, str]],
    agents: Sequence[str],
    directives: Sequence[str],
) -> list[str]:
    """The (agent: directive) strings among ``pairs`` that opt out for one of ``agents``."""
    wanted = {a.lower() for a in agents}
    hits = []
    for agent, directive in pairs:
        if directive in directives and (agent is None or agent.lower() in wanted):
            hits.append(f"{agent}: {directive}" if agent else directive)
    return hits


# ---- robots.txt and ai.txt --------------------------------------------------------------------
def _normalise_ai_txt(text: str) -> str:
    """Spawning writes patterns such as ``Disallow: *.jpg``; protego wants them rooted."""
    lines = []
    for line in text.splitlines():
        m = re.match(r"^(\s*(?:dis)?allow\s*:\s*)(\S.*)$", line, re.IGNORECASE)
        if m and not m.group(2).startswith("/"):
            line = f"{m.group(1)}/{m.group(2)}"
        lines.append(line)
    return "\n".join(lines)


@functools.lru_cache(maxsize=1024)
def _robots_parser(text: str) -> Any:
    from protego import Protego

    return Protego.parse(text)


def robots_disallows(text: str, url: str, agents: Sequence[str]) -> list[str]:
    """The agents of the list that ``text`` (robots.txt syntax) disallows for ``url``."""
    parser = _robots_parser(text)
    return [a for a in agents if not parser.can_fetch(url, a)]


def _names(agents: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(agents[:limit])
    return shown if len(agents) <= limit else f"{shown} and {len(agents) - limit} more"


# ---- the decision -----------------------------------------------------------------------------
def decide(
    url: str | None,
    headers: list[tuple[str, str]],
    *,
    meta_tdm_reservation: str | None = None,
    meta_tdm_policy: str | None = None,
    meta_robots: Sequence[tuple[str | None, str]] = (),
    site: SitePolicies | None = None,
    agents: Sequence[str] = AI_AGENTS,
    directives: Sequence[str] = NOAI_DIRECTIVES,
) -> OptOut:
    """The opt-out decision for one record from every signal collected with it."""
    out = OptOut()
    site = site or SitePolicies()
    value, where, policy = tdm_decision(
        url, headers, meta_tdm_reservation, meta_tdm_policy, site.tdmrep
    )
    out.tdm_reservation, out.tdm_from, out.tdm_policy = value, where, policy
    if value == 1:
        detail = f"TDM rights reserved ({where})"
        out.reasons.append(("optout_tdmrep", detail + (f", policy {policy}" if policy else "")))
    pairs: list[tuple[str | None, str]] = []
    for v in (v for n, v in headers if n == "x-robots-tag"):
        pairs.extend(parse_x_robots_tag(v))
    hits = [f"X-Robots-Tag {h}" for h in noai_hits(pairs, agents, directives)]
    hits += [f"meta robots {h}" for h in noai_hits(meta_robots, agents, directives)]
    if hits:
        out.reasons.append(("optout_x_robots_tag", ", ".join(hits)))
    if url and site.robots_unreachable:
        out.reasons.append(("optout_robots", "robots.txt unreachable (RFC 9309: assume disallow)"))
    elif url and site.robots_txt:
        blocked = robots_disallows(site.robots_txt, url, agents)
        if blocked:
            path = urlsplit(url).path or "/"
            out.reasons.append(
                ("optout_robots", f"robots.txt disallows {path} for {_names(blocked)}")
            )
    if url and site.ai_txt:
        blocked = robots_disallows(_normalise_ai_txt(site.ai_txt), url, ("*", *agents))
        if blocked:
            path = urlsplit(url).path or "/"
            out.reasons.append(("optout_ai_txt", f"ai.txt disallows {path} for {blocked[0]}"))
    return out
