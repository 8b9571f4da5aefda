"""The site's Jinja2 environment: its own templates, then the shared ones (datasteward.html),
with the shared filters plus ``markdown`` (markdown-it-py, then sanitised by nh3)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from datasteward.html import add_filters
from datasteward.html import loader as shared_loader

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: Tags and attributes a rendered Markdown document may keep (no script, style, iframe, form,
#: event handler or inline style; links get rel="noopener noreferrer").
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "*": {"id"},
}
_URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str) -> Markup:
    """Markdown to HTML (raw HTML in the source is not passed through), then sanitised."""
    import nh3

    html = _markdown().render(text or "")
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 above


#: Litestar's ``csrf_input`` context value: a hidden field with a hex token. It arrives as a
#: plain string; this exact shape (nothing else) is passed through unescaped, so templates write
#: ``{{ csrf_input }}`` and autoescaping stays on for everything else.
_CSRF_INPUT = re.compile(r'<input type="hidden" name="_csrf_token" value="[0-9a-f]{1,256}" />')


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup) and _CSRF_INPUT.fullmatch(value):
        return Markup(value)  # noqa: S704 - only a hidden field with a hex token
    return value


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), shared_loader()]),
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    add_filters(env)
    env.filters["markdown"] = markdown_html
    return env
