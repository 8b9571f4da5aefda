"""Helpers shared by the CLI modules: the project option, its recipe, and number formats.

Runs are found with :func:`datasteward.runs.find.find_run`, the rule every command shares.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from datasteward.recipe.model import RECIPE_FILE, Recipe, load_recipe
from datasteward.text_safety import visible_controls

console = Console()
err_console = Console(stderr=True)

#: Width of the output when it is not a terminal (a file, a pipe, a CI log): wide enough that
#: no table cuts a run id or a hint's command; text is never wrapped there (``soft_wrap``).
OFF_TERMINAL_WIDTH = 4096

_LOG_HANDLER: logging.Handler | None = None


def configure_output(verbosity: int | None = None) -> None:
    """Set up the consoles for where the output goes, and logging for ``-v``.

    Off a terminal the consoles do not wrap lines (a command in a hint stays on one line) and
    tables are as wide as their content; on a terminal rich fits them to its width. With
    ``verbosity`` (``-v`` 1: INFO, ``-vv`` 2: DEBUG, 0: warnings) the library's ``logging``
    goes to stderr through one handler on the ``datasteward`` logger (rich's on a terminal,
    plain timestamped lines off it).
    """
    for c in (console, err_console):
        if not c.is_terminal:
            c.soft_wrap = True
            c.width = OFF_TERMINAL_WIDTH
    if verbosity is None:
        return
    global _LOG_HANDLER
    from rich.logging import RichHandler

    logger = logging.getLogger("datasteward")
    if _LOG_HANDLER is not None:
        logger.removeHandler(_LOG_HANDLER)
    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING
    if err_console.is_terminal:
        _LOG_HANDLER = RichHandler(
            console=err_console, show_time=verbosity >= 2, show_path=False, markup=False
        )
    else:  # a log file or a pipe: plain lines, not padded to a width
        _LOG_HANDLER = logging.StreamHandler(sys.stderr)
        _LOG_HANDLER.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    _LOG_HANDLER.setLevel(level)
    logger.addHandler(_LOG_HANDLER)
    if verbosity:  # without -v the level stays the root's (warnings), as an embedding app set it
        logger.setLevel(level)


ProjectOption = typer.Option(
    Path("."),
    "--project",
    "-p",
    help="The project folder (holds datasteward.toml).",
    file_okay=False,
)


def load_project_recipe(project: Path, recipe: Path | None = None) -> Recipe:
    return load_recipe(recipe if recipe is not None else project / RECIPE_FILE)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def term(value: object) -> str:
    """Data (a record's value, a run id, a reason) for rich markup on the terminal: control
    characters (ANSI/OSC escapes, backspace, carriage return, C1, BiDi) shown as ``\\x1b``-style
    escapes, ``[`` escaped so rich reads no markup from it. Every value from data goes through
    here (or :func:`term_text`, :func:`print_data_json`) before it is printed."""
    return escape(visible_controls(str(value)))


def term_text(value: object) -> str:
    """Like :func:`term` for multi-line text (a record's text): newlines and tabs are kept."""
    return escape(visible_controls(str(value), keep_lines=True))


#: Characters JSON may carry raw (``ensure_ascii=False``) that a terminal acts on: DEL, C1,
#: BiDi controls, line/paragraph separators (C0 controls are always escaped by ``json``).
_JSON_RAW_CONTROLS = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def print_data_json(data: Any) -> None:
    """``data`` as indented JSON on stdout: exact (``json.loads`` gives the values back) and
    inert (every control character is a ``\\uXXXX`` escape; no markup, emoji or wrapping)."""
    text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
    text = _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    console.print(Text(text), soft_wrap=True, highlight=False)
