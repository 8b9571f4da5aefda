"""``rights.optout``: remove records whose owners opted out of AI training / TDM.

Reads, per record: the HTTP headers in ``metadata["http_headers"]`` (``tdm-reservation``,
``tdm-policy``, ``X-Robots-Tag``), the HTML (``html`` column or ``metadata["html"]``: TDMRep
and robots meta tags), and site policies — collected with the record in its metadata
(``robots_txt``, ``tdmrep_json``, ``ai_txt``), or recorded by ``datasteward collect`` at fetch
time (``metadata["collect"]["optout"]``), or, with ``fetch = true``, fetched once per site by
:class:`datasteward.rights.policy_fetcher.PolicyFetcher` (cached under the project). Offline by
default.

Reasons: ``optout_tdmrep``, ``optout_x_robots_tag``, ``optout_robots``, ``optout_ai_txt``; the
detail names the agent and rule. Every record gets ``optout_signals`` (JSON: the TDM
reservation in force and where it came from, and the signals that fired) so a kept record's
clearance is on file too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import numpy as np
import orjson
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.rights import optout_signals as oo
from datasteward.rights.headers import (
    column_or_none,
    headers_from_metadata,
    parse_metadata,
    record_html,
)
from datasteward.steps.base import Filter, FilterDecision, StepContext, StepOptions

SIGNALS_COLUMN = "optout_signals"


@dataclass(frozen=True)
class OptOutOptions(StepOptions):
    """Options of ``rights.optout``."""

    #: The AI crawler user-agents whose robots.txt rules and scoped noai directives count.
    agents: tuple[str, ...] = oo.AI_AGENTS
    #: Added to ``agents`` (to extend the maintained list without copying it).
    extra_agents: tuple[str, ...] = ()
    #: X-Robots-Tag / robots meta directives that opt out (add "noimageai" for image data).
    directives: tuple[str, ...] = oo.NOAI_DIRECTIVES
    #: Which signals to honour.
    signals: tuple[str, ...] = ("tdmrep", "x_robots_tag", "robots", "ai_txt")
    #: Fetch robots.txt, tdmrep.json and ai.txt over HTTP (cached); off = offline.
    fetch: bool = False
    #: Folder of the fetch cache, relative to the recipe folder.
    cache_dir: str = ".datasteward/cache/optout"
    #: Fetch timeout (seconds) and minimum interval between requests to one host.
    timeout: float = 10.0
    min_interval: float = 1.0
    #: RFC 9309: an unreachable robots.txt (5xx, network error) means "disallow everything".
    robots_unreachable: Literal["disallow", "allow"] = "disallow"
    #: The column holding the raw HTML (``metadata["html"]`` is the fallback).
    html_column: str = "html"

    def validate(self) -> None:
        known = {"tdmrep", "x_robots_tag", "robots", "ai_txt"}
        bad = set(self.signals) - known
        if bad:
            raise StepError(
                f"rights.optout: unknown signal(s) {sorted(bad)}",
                hint="signals are: " + ", ".join(sorted(known)),
            )


def _site_from_metadata(meta: dict[str, Any]) -> oo.SitePolicies | None:
    robots, tdm, ai = meta.get("robots_txt"), meta.get("tdmrep_json"), meta.get("ai_txt")
    if robots is None and tdm is None and ai is None:
        return None
    if isinstance(tdm, str):
        try:
            tdm = orjson.loads(tdm)
        except orjson.JSONDecodeError:
            tdm = None
    rules = [r for r in tdm if isinstance(r, dict)] if isinstance(tdm, list) else None
    return oo.SitePolicies(
        robots if isinstance(robots, str) else None,
        False,
        rules,
        ai if isinstance(ai, str) else None,
    )


def _merge(a: oo.SitePolicies | None, b: oo.SitePolicies | None) -> oo.SitePolicies:
    """What was collected with the record wins over what is fetched now."""
    if a is None:
        return b or oo.SitePolicies()
    if b is None:
        return a
    return oo.SitePolicies(
        a.robots_txt if a.robots_txt is not None else b.robots_txt,
        a.robots_unreachable if a.robots_txt is not None else b.robots_unreachable,
        a.tdmrep if a.tdmrep is not None else b.tdmrep,
        a.ai_txt if a.ai_txt is not None else b.ai_txt,
    )


_SIGNAL_OF_REASON = {
    "optout_tdmrep": "tdmrep",
    "optout_x_robots_tag": "x_robots_tag",
    "optout_robots": "robots",
    "optout_ai_txt": "ai_txt",
}


def _add_recorded(result: oo.OptOut, recorded: dict[str, Any], use: set[str]) -> None:
    """Opt-outs that ``datasteward collect`` recorded at fetch time (``metadata["collect"]``:
    site files a record does not carry — robots.txt for AI agents, tdmrep.json, ai.txt — and
    meta tags when the HTML was not kept) count as if seen now, for the signals in use."""
    have = {r for r, _ in result.reasons}
    when = recorded.get("retrieved_at")
    for item in recorded.get("optout") or []:
        if not isinstance(item, dict):
            continue
        reason, detail = item.get("reason"), item.get("detail")
        if reason in have or _SIGNAL_OF_REASON.get(str(reason)) not in use:
            continue
        result.reasons.append((str(reason), f"{detail} (recorded at fetch time {when})"))
        have.add(str(reason))


class OptOutFilter(Filter):
    """Remove records whose owners reserved them from AI training / TDM."""

    name: ClassVar[str] = "rights.optout"
    whatif_unsupported: ClassVar[str] = "opt-out signals are fetched, not thresholds"
    Options: ClassVar[type[StepOptions]] = OptOutOptions

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self._fetcher: Any = None

    def setup(self, ctx: StepContext) -> None:
        opts = self._opts
        if opts.fetch and self._fetcher is None:
            from datasteward.rights.policy_fetcher import FetchOptions, PolicyFetcher

            self._fetcher = PolicyFetcher(
                ctx.recipe_dir / opts.cache_dir,
                FetchOptions(timeout=opts.timeout, min_interval=opts.min_interval),
            )

    @property
    def _opts(self) -> OptOutOptions:
        opts = self.options
        if not isinstance(opts, OptOutOptions):  # pragma: no cover - guarded by Step.__init__
            raise StepError("rights.optout: wrong options type")
        return opts

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        opts = self._opts
        agents = tuple(dict.fromkeys((*opts.agents, *opts.extra_agents)))
        uris = batch.column("source_uri").to_pylist()
        metas = column_or_none(batch, "metadata")
        html_col = column_or_none(batch, opts.html_column)
        n = batch.num_rows
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        details: list[str | None] = [None] * n
        signals: list[str | None] = [None] * n
        use = set(opts.signals)
        for i in range(n):
            url = uris[i]
            meta = parse_metadata(metas[i]) if metas is not None else {}
            headers = headers_from_metadata(meta)
            html = record_html(html_col, meta, i)
            page = None
            if html and ("tdmrep" in use or "x_robots_tag" in use):
                from datasteward.rights.html import parse_page

                page = parse_page(html, url, agents=agents)
            fetched = None
            if self._fetcher is not None and url and ({"robots", "tdmrep", "ai_txt"} & use):
                fetched = self._fetcher.policies(url)
            site = _merge(_site_from_metadata(meta), fetched)
            if opts.robots_unreachable == "allow" and site.robots_unreachable:
                site = replace(site, robots_unreachable=False)
            site = oo.SitePolicies(
                site.robots_txt if "robots" in use else None,
                site.robots_unreachable and "robots" in use,
                site.tdmrep if "tdmrep" in use else None,
                site.ai_txt if "ai_txt" in use else None,
            )
            if "tdmrep" not in use:
                headers_used = [(k, v) for k, v in headers if not k.startswith("tdm-")]
            else:
                headers_used = headers
            if "x_robots_tag" not in use:
                headers_used = [(k, v) for k, v in headers_used if k != "x-robots-tag"]
            result = oo.decide(
                url,
                headers_used,
                meta_tdm_reservation=page.tdm_reservation if page and "tdmrep" in use else None,
                meta_tdm_policy=page.tdm_policy if page and "tdmrep" in use else None,
                meta_robots=page.robots if page and "x_robots_tag" in use else (),
                site=site,
                agents=agents,
                directives=opts.directives,
            )
            if isinstance(meta.get("collect"), dict):
                _add_recorded(result, meta["collect"], use)
            record: dict[str, Any] = {}
            if result.tdm_from is not None:
                record["tdm_reservation"] = result.tdm_reservation
                record["tdm_from"] = result.tdm_from
                if result.tdm_policy:
                    record["tdm_policy"] = result.tdm_policy
            if result.opted_out:
                keep[i] = False
                reasons[i] = result.reason
                details[i] = result.detail
                record["optout"] = [{"reason": r, "detail": d} for r, d in result.reasons]
            signals[i] = orjson.dumps(record).decode() if record else None
        return FilterDecision(
            keep=keep,
            reason=reasons,
            detail=details,
            signals={SIGNALS_COLUMN: pa.array(signals, pa.string())},
        )
