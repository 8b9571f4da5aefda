"""The per-URL signals record: what the site said when the page was fetched.

One :class:`UrlSignals` per URL (fetched or not), written as JSON into the WARC ``metadata``
record of the page and kept in the frontier. The rules that turn signals into an opt-out live
in :mod:`datasteward.rights.optout_signals` (TDMRep, X-Robots-Tag / meta robots ``noai``,
robots.txt for AI agents, ai.txt); this module only gathers their inputs and keeps the result.

``reserved`` is True when any signal reserves training rights; the crawl's policy for reserved
pages (``record`` keeps them in the WARC marked, for ``rights.optout`` to remove with a trace;
``drop`` leaves them out of the WARC) acts on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from datasteward.collect.fetch import FetchResult
from datasteward.collect.robots import RobotsDecision, SiteRules
from datasteward.rights import optout_signals as oo

#: The key of the signals in a WARC record's metadata (``metadata["collect"]`` once read).
METADATA_KEY = "collect"
#: Version of the signals record's layout.
SIGNALS_VERSION = 1


@dataclass
class UrlSignals:
    """Every signal seen for one URL, and what the crawl decided."""

    url: str
    final_url: str | None = None
    retrieved_at: str | None = None
    status: int | None = None
    depth: int = 0
    redirect_chain: list[dict[str, Any]] = field(default_factory=list)
    robots: dict[str, Any] | None = None
    x_robots_tag: list[str] = field(default_factory=list)
    meta_robots: list[str] = field(default_factory=list)
    tdm_reservation_header: str | None = None
    tdm_policy_header: str | None = None
    meta_tdm_reservation: str | None = None
    #: The tdmrep.json rule that matched the URL (None: no file, or no rule matched).
    tdmrep_rule: dict[str, Any] | None = None
    tdm_reservation: int | None = None
    tdm_from: str | None = None
    ai_txt_present: bool = False
    #: Opt-outs that fired: [{"reason": "optout_...", "detail": "..."}].
    optout: list[dict[str, str]] = field(default_factory=list)
    reserved: bool = False
    #: fetched | reserved_recorded | reserved_dropped | robots_refused | error | skipped
    decision: str = "fetched"
    error: str | None = None
    error_detail: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, [], False)}
        out["url"] = self.url
        out["reserved"] = self.reserved
        out["decision"] = self.decision
        out["version"] = SIGNALS_VERSION
        return out


def _meta_pairs(html: str | None, url: str, agents: tuple[str, ...]) -> tuple[Any, ...]:
    """(tdm-reservation, tdm-policy, robots pairs) from the page's meta tags."""
    if not html:
        return None, None, []
    from datasteward.rights.html import parse_page

    page = parse_page(html, url, agents=agents)
    return page.tdm_reservation, page.tdm_policy, page.robots


def gather(
    url: str,
    result: FetchResult | None,
    *,
    site: SiteRules | None,
    robots: RobotsDecision | None,
    html: str | None,
    agents: Sequence[str],
    directives: Sequence[str] = oo.NOAI_DIRECTIVES,
    depth: int = 0,
) -> UrlSignals:
    """The signals record of one URL, with the opt-out decided by the rights rules."""
    agents = tuple(agents)
    sig = UrlSignals(url=url, depth=depth)
    if robots is not None:
        sig.robots = robots.to_json()
    if site is not None:
        sig.notes.extend(site.notes)
        sig.ai_txt_present = site.policies.ai_txt is not None
    headers: list[tuple[str, str]] = []
    if result is not None:
        sig.final_url = result.final_url
        sig.retrieved_at = result.retrieved_at.astimezone(dt.UTC).isoformat()
        sig.status = result.status
        sig.redirect_chain = [
            {"url": r.url, "status": r.status, "location": r.location} for r in result.redirects
        ]
        headers = [(n.lower(), v) for n, v in result.headers]
        sig.error, sig.error_detail = result.error, result.detail
    page_url = sig.final_url or url
    sig.x_robots_tag = [v for n, v in headers if n == "x-robots-tag"]
    sig.tdm_reservation_header = next((v for n, v in headers if n == "tdm-reservation"), None)
    sig.tdm_policy_header = next((v for n, v in headers if n == "tdm-policy"), None)
    meta_tdm, meta_policy, meta_robots = _meta_pairs(html, page_url, agents)
    sig.meta_tdm_reservation = meta_tdm
    sig.meta_robots = [f"{a}: {d}" if a else d for a, d in meta_robots]
    policies = site.policies if site is not None else oo.SitePolicies()
    if policies.tdmrep is not None:
        sig.tdmrep_rule = oo.tdmrep_rule(policies.tdmrep, page_url)
    # robots for the AI agents is decided here as an opt-out too (the crawl obeys it first)
    decided = oo.decide(
        page_url,
        headers,
        meta_tdm_reservation=meta_tdm,
        meta_tdm_policy=meta_policy,
        meta_robots=meta_robots,
        site=policies,
        agents=agents,
        directives=directives,
    )
    sig.tdm_reservation, sig.tdm_from = decided.tdm_reservation, decided.tdm_from
    sig.optout = [{"reason": r, "detail": d} for r, d in decided.reasons]
    sig.reserved = decided.opted_out
    return sig
