"""Find the line of a key in TOML text, for error messages (tomllib gives no positions)."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")


def locate(text: str, table: str | None, index: int | None, key: str | None) -> int | None:
    """The 1-based line of ``key`` in ``[table]`` (or the ``index``-th ``[[table]]``).

    With ``key`` None, the line of the table header. ``table`` None means the top level.
    Returns None when it cannot be found (the caller then names no line).
    """
    current: str | None = None
    counts: dict[str, int] = {}
    current_index = 0
    header_line: int | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            current = m.group(2).strip().strip("\"'")
            if m.group(1) == "[[":
                current_index = counts.get(current, 0)
                counts[current] = current_index + 1
            else:
                current_index = 0
            if current == table and (index is None or index == current_index):
                header_line = lineno
                if key is None:
                    return lineno
            continue
        if key is None or current != table:
            continue
        if index is not None and current_index != index:
            continue
        # inline tables `a = 1; b = 2` are not TOML, but `{...}` forms are: check each key
        for part in re.split(r"[,{]", line):
            km = _KEY.match(part)
            if km and km.group(1).strip("\"'") == key:
                return lineno
    return header_line
