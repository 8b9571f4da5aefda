"""Issue #20 item 5: control sequences in data never reach the terminal through `inspect` and
`status` (ANSI escapes, OSC 8 hyperlinks, backspace, carriage return, C1 controls, BiDi
overrides), and rich never reads data as markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from untrusted_records import RECIPE, make_project, run_project

from datasteward.cli.main import _load, app

_load()

#: What a terminal acts on: C0 controls but newline, DEL, C1 controls, BiDi controls.
DANGEROUS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

OSC8 = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
TEXT = (
    "hello there \x1b[2J\x1b[31mRED\x1b[0m " + OSC8 + " safe\x08\x08\x08\x08EVIL\rOVERWRITE "
    "\u202eevil\u202c \x9b31m [bold red]markup[/bold red] [link=https://evil.example]L[/link] "
    "and enough words"
)
CONSENT = "explicit\x1b[31m\u202e[bold]PWN[/bold]\x07"
AUTHOR = "Eve \x1b]8;;https://evil.example/\x07x\x1b]8;;\x07 [red]R[/red]"
URL = "https://e.example/\x1b[31mred\u202e"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    recipe = RECIPE.replace('consent = "unknown"', 'consent_field = "consent"')
    records = [
        {"id": "t000", "text": TEXT, "url": URL, "license": "MIT", "author": AUTHOR,
         "consent": CONSENT},
        {"id": "t001", "text": "an ordinary record with words", "url": "https://ok.example/",
         "license": "MIT", "author": "Ann", "consent": "explicit"},
    ]  # fmt: skip
    root = make_project(tmp_path_factory.mktemp("term"), records, recipe=recipe)
    run_project(root)
    return root


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def assert_clean(out: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in DANGEROUS.findall(out)})
    assert not bad, f"control characters reached the terminal: {bad}"


def test_inspect_shows_control_characters_as_text(project: Path) -> None:
    out = invoke("inspect", "web:t000", "--project", str(project), "--text-chars", "10000")
    assert_clean(out)
    flat = " ".join(out.split())
    # made visible, not dropped: the reader sees that something was there
    assert "\\x1b[31mRED" in flat
    assert "\\u202eevil" in flat
    assert "\\x08" in flat and "\\x0d" in flat
    # rich read no markup from the data
    assert "[bold red]markup[/bold red]" in flat
    assert "[link=https://evil.example]L[/link]" in flat
    assert "[red]R[/red]" in flat  # the attribution, in the provenance table


def test_status_shows_consent_values_as_text(project: Path) -> None:
    out = invoke("status", "--project", str(project))
    assert_clean(out)
    assert "[bold]PWN[/bold]" in " ".join(out.split())


@pytest.mark.parametrize("command", ["inspect", "status"])
def test_json_output_is_exact_and_inert(project: Path, command: str) -> None:
    args = ["inspect", "web:t000"] if command == "inspect" else ["status"]
    out = invoke(*args, "--project", str(project), "--json")
    assert_clean(out)
    data = json.loads(out)
    if command == "inspect":
        assert data["record"]["text"] == TEXT  # escaped in JSON, not altered
        assert data["record"]["attribution"] == AUTHOR
    else:
        assert data["consent"][CONSENT] == 1


def test_term_helpers() -> None:
    from datasteward.cli._common import term, term_text

    assert term("a\x1b[31mb") == "a\\x1b[31mb"  # shown, and no tag for rich
    assert term("[bold]x[/bold]") == "\\[bold]x\\[/bold]"
    assert term_text("line 1\nline 2\r\x1b") == "line 1\nline 2\\x0d\\x1b"
    assert term("日本語 café") == "日本語 café"
