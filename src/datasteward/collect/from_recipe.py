"""A ``[[collect]]`` table's politeness and fetch limits: one reading for pages and images."""

from __future__ import annotations

import dataclasses

from datasteward.collect.fetch import FetchOptions, user_agent
from datasteward.collect.politeness import Politeness
from datasteward.errors import RecipeError
from datasteward.recipe.collect import CollectConfig


def politeness_of(cfg: CollectConfig) -> Politeness:
    """How hard the table lets the collector press on sites."""
    return Politeness(
        min_delay=cfg.min_delay,
        per_host=cfg.per_host,
        concurrency=cfg.concurrency,
        crawl_delay=cfg.crawl_delay,
    )


def fetch_options_of(cfg: CollectConfig, *, accept: str | None = None) -> FetchOptions:
    """The limits of one fetch, with the table's honest user agent; ``accept`` overrides the
    default Accept header (images ask for images). A table without ``contact_url`` is
    refused: an honest collector says who runs it."""
    if not cfg.contact_url:
        raise RecipeError(
            f"{cfg.where or 'the recipe'}: [[collect]] `{cfg.name}` has no contact_url",
            hint='an honest collector says who runs it: add contact_url = "https://..." '
            "(a page or mailto: where site owners can reach you)",
        )
    options = FetchOptions(
        user_agent=user_agent(cfg.contact_url, token=cfg.user_agent),
        connect_timeout=cfg.connect_timeout,
        read_timeout=cfg.read_timeout,
        total_timeout=cfg.total_timeout,
        max_body_bytes=cfg.max_body_bytes,
        max_redirects=cfg.max_redirects,
        retries=cfg.retries,
        http2=cfg.http2,
    )
    return options if accept is None else dataclasses.replace(options, accept=accept)
