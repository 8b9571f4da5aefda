"""Untrusted text in documents and on the terminal: one place that says how data is shown.

Dataset content (a record's licence, URL, attribution, source name, any value) is written by
strangers. Where it goes into a Markdown document (NOTICE.md, the card, datasheet.md,
CHANGELOG.md) it must stay *text*: no HTML tag, link, heading, list or table cell of its own.
Where it goes to a terminal it must not move the cursor, change colours, open hyperlinks
(OSC 8) or reorder what is shown (BiDi overrides). The helpers:

* :func:`visible_controls` — control characters (C0, DEL, C1), BiDi controls and line/paragraph
  separators shown as ``\\x1b`` / ``\\u202e`` escapes;
* :func:`md_text` — one line of Markdown that renders exactly as the value (whitespace
  collapsed, Markdown punctuation backslash-escaped);
* :func:`md_code` — the value as an inline code span (a fence longer than any backtick run);
* :func:`md_plain` — the value unadorned when Markdown shows it literally, else a code span;
* :func:`md_url` — an ``<autolink>`` only for http(s) URLs, percent-encoded where needed;
  anything else is :func:`md_text`;
* :func:`md_prose` — the stewards' own prose (datasheet.toml, the recipe's description): their
  Markdown formatting is kept, raw HTML is not (``&``, ``<``, ``>`` become entities).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

#: Characters never shown as they are: C0 controls, DEL, C1 controls, the BiDi embeddings,
#: overrides, isolates and marks, and the Unicode line/paragraph separators.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
#: The same without newline and tab (multi-line text keeps its lines).
_CONTROL_KEEP_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def _escape_char(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible_controls(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``);
    newlines and tabs are kept when ``keep_lines``."""
    return (_CONTROL_KEEP_LINES if keep_lines else _CONTROL).sub(_escape_char, text)


#: Markdown punctuation escaped wherever it is (CommonMark allows a backslash before any ASCII
#: punctuation): code, emphasis, links/images, autolinks and HTML, tables, headings,
#: strikethrough, entity references, attribute lists.
_MD_ALWAYS = re.compile(r"([\\`*\[\]<>|#~&{}])")
#: ``_`` is emphasis only at a word's edge: ``snake_case`` and ``a_b@example.org`` stay readable.
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: What would open a block at the start of a line: a list item, a thematic break or setext line,
#: an ordered list item (``1.`` / ``1)``).
_MD_LEADING = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def md_text(value: object) -> str:
    """``value`` as one line of Markdown text that renders as the value, nothing more."""
    text = visible_controls(" ".join(str(value).split()))
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    return _MD_LEADING.sub(
        lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), text
    )


def md_code(value: object) -> str:
    """``value`` as an inline code span (on one line; a backtick in it cannot close it)."""
    text = visible_controls(" ".join(str(value).split()))
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_plain(value: object) -> str:
    """``value`` as it is when Markdown would show it literally (``timestamp[us, tz=UTC]``,
    ``large_string``), else as a code span: ordinary values stay unadorned."""
    text = visible_controls(" ".join(str(value).split()))
    literal = md_text(text).replace("\\[", "[").replace("\\]", "]")
    return text if literal == text and "](" not in text else md_code(text)


#: Kept as they are in a linked URL (RFC 3986 reserved and unreserved characters, and ``%``);
#: everything else (spaces, controls, ``<>"`\\{}|^``, non-ASCII) is percent-encoded.
_URL_SAFE = ";/?:@&=+$,-_.!~*'()#[]%"


def safe_http_url(value: str) -> str | None:
    """``value`` percent-encoded where needed if it is an http(s) URL with a host, else None."""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(text, safe=_URL_SAFE)


def md_url(value: object) -> str:
    """An http(s) URL as a Markdown autolink ``<...>``; any other value as plain text."""
    url = safe_http_url(str(value))
    return f"<{url}>" if url is not None else md_text(value)


def md_prose(text: str) -> str:
    """The stewards' own Markdown (datasheet answers, a description): formatting kept, raw
    HTML and entity references shown as text, control characters made visible."""
    text = visible_controls(text, keep_lines=True)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = [
    "md_code",
    "md_plain",
    "md_prose",
    "md_text",
    "md_url",
    "safe_http_url",
    "visible_controls",
]
