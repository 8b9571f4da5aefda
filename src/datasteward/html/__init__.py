"""The one place that turns data into HTML: a shared Jinja2 environment with autoescaping.

The audit report, the release's ``datasheet.html`` and the stewardship site (``web/``) render
with templates from this environment (or, for the site, one that also loads these templates),
so the escaping rules live here once:

* every ``{{ value }}`` is HTML-escaped (autoescape is on for every template);
* ``{{ value | text }}`` escapes with ``html.escape`` (the audit report's spelling);
* ``{{ data | json_script }}`` makes JSON safe inside ``<script type="application/ld+json">``
  (``<``, ``>``, ``&``, U+2028 and U+2029 become ``\\uXXXX`` escapes, so no value can close
  the script element or break a JavaScript parser).

This package sits low in the package graph (it imports only jinja2 and markupsafe), so
``audit`` and ``release`` may use it.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_for_script(data: Any, *, indent: int | None = None) -> Markup:
    """``data`` as JSON that can sit inside a ``<script>`` element as it is."""
    text = json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=False)
    return Markup(text.translate(_SCRIPT_ESCAPES))  # noqa: S704 - escaped for the script context


def html_text(value: Any) -> Markup:
    """A value as HTML text, escaped with the standard library's ``html.escape`` (quotes too;
    None is empty): the ``text`` filter. Autoescaping gives the same safety; this spelling keeps
    the audit report's bytes as they were before it moved to templates."""
    return Markup(html.escape("" if value is None else str(value), quote=True))  # noqa: S704


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    """The shared filters, for any environment that renders datasteward's templates."""
    env.filters["json_script"] = json_for_script
    env.filters["text"] = html_text
    return env


def loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("datasteward.html", "templates")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment (autoescape on, undefined values are errors)."""
    env = jinja2.Environment(
        loader=loader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return add_filters(env)


def render(template: str, /, **context: Any) -> str:
    """Render one of the shared templates."""
    return environment().get_template(template).render(**context)


__all__ = ["add_filters", "environment", "html_text", "json_for_script", "loader", "render"]
