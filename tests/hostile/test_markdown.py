"""Issue #20 item 4: data in the Markdown documents (NOTICE.md, the card, datasheet.md,
CHANGELOG.md) stays text. Each document of a release made from hostile records is rendered
with markdown-it-py (raw HTML on, as a careless renderer would) and the HTML must hold no tag,
attribute, link or heading that the data made."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from untrusted_records import RECIPE, make_project, run_project

from datasteward.text_safety import md_code, md_prose, md_text, md_url, safe_http_url

#: Values a stranger's records may carry; each holds "PWN" so its effect can be found. The HTML
#: is valid CommonMark inline HTML (quoted attribute values), so a renderer would pass it on.
LICENSES = [
    "<script>alert('PWN1')</script>",
    'x"><img src="x" onerror="alert(2)">PWN2',
    "CC-BY-4.0",
    "`PWN3`<b>bold</b>",
]
AUTHORS = [
    "<img src=x onerror=alert(4)>PWN4",
    "[PWN5](javascript:alert(5))",
    "# PWN6 heading",
    "- - -",
    "1. PWN7 list",
    "a | b &lt;i&gt;PWN8&lt;/i&gt; ``` *PWN9* {onclick=x}",
    "Ada\x1b[31m\u202ePWN10\nline",
]
URLS = [
    "https://ok.example/a><script>alert('PWN11')</script>",
    "javascript:alert('PWN12')",
    'https://x.example/" onmouseover="alert(PWN13)',
    "https://y.example/a b<c>`PWN14`",
    "data:text/html,<script>PWN15</script>",
]

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "p", "ul", "li", "strong", "em", "code", "a", "pre", "br",
}  # fmt: skip


def hostile_records() -> list[dict[str, str]]:
    out = []
    n = 0
    for lic in LICENSES:
        for author in AUTHORS:
            out.append({
                "id": f"h{n:03d}",
                "text": f"enough words in record {n} here",
                "url": URLS[n % len(URLS)],
                "license": lic,
                "author": author,
            })  # fmt: skip
            n += 1
    return out


HOSTILE_RECIPE = RECIPE.replace(
    'description = "Records written by someone else."',
    'description = \'Text <img src="x" onerror="alert(16)"> PWN16 with **bold** kept.\'',
).replace('name = "Ada Steward"', 'name = "<b>PWN17</b> [x](javascript:y)"')

DATASHEET = """\
[motivation]
purpose = "To test <script>alert('PWN18')</script> and keep *emphasis*."
creators = "<iframe src=https://evil.example/PWN19></iframe>"

[composition]
instances = "Records &amp; <b onclick=PWN20>things</b>."
"""


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._in_heading = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag.startswith("h") and tag[1:].isdigit():
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.headings[-1] += data


def render(markdown: str) -> Tags:
    if markdown.startswith("---\n"):  # the card's YAML front matter (the Hub strips it)
        markdown = markdown.split("\n---\n", 1)[1]
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser = Tags()
    parser.feed(md.render(markdown))
    return parser


def assert_inert(markdown: str, *, name: str) -> Tags:
    """No tag, attribute or link from the data in ``markdown`` rendered to HTML."""
    tags = render(markdown)
    for tag, attrs in tags.tags:
        assert tag in ALLOWED_TAGS, f"{name}: <{tag} {attrs}> came from the data"
        for key, value in attrs.items():
            if (tag, key) == ("code", "class") and value in ("language-python", "language-bash"):
                continue  # the card's own fenced code blocks
            assert key in ("href", "title"), f"{name}: attribute {key}={value!r} on <{tag}>"
            if key == "href":
                assert value is not None
                assert value.startswith(("https://", "http://")) or value.endswith(".md"), (
                    f"{name}: link to {value!r}"
                )
                for bad in ("<", ">", '"', " ", "`"):
                    assert bad not in value, f"{name}: {bad!r} in link {value!r}"
    for heading in tags.headings:
        for marker in ("PWN6", "PWN7"):
            assert marker not in heading, f"{name}: the data made a heading: {heading!r}"
    return tags


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datasteward.release.build.make import make_release

    root = make_project(tmp_path_factory.mktemp("md"), hostile_records(), recipe=HOSTILE_RECIPE)
    (root / "datasheet.toml").write_text(DATASHEET, encoding="utf-8")
    run_project(root)
    return make_release(root, "1.0.0", draft=True).path


def test_notice_holds_no_html_from_the_data(release: Path) -> None:
    text = (release / "NOTICE.md").read_text(encoding="utf-8")
    tags = assert_inert(text, name="NOTICE.md")
    # one heading per licence, one per source under it, and nothing else
    assert len([h for h in tags.headings if "Source" in h]) == len(LICENSES)
    assert len(tags.headings) == 1 + 2 * len(LICENSES)
    # the values are all there, as text
    for lic in ("alert('PWN1')", "CC-BY-4.0"):
        assert any(lic in h for h in tags.headings), lic
    assert "\x1b" not in text and "\u202e" not in text
    # only http(s) URLs are links
    hrefs = [a.get("href") or "" for t, a in tags.tags if t == "a"]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    assert not any("javascript" in h or h.startswith("data:") for h in hrefs)


def test_card_datasheet_and_changelog_hold_no_html_from_the_data(release: Path) -> None:
    for name in ("README.md", "datasheet.md", "CHANGELOG.md"):
        text = (release / name).read_text(encoding="utf-8")
        assert_inert(text, name=name)
    sheet = (release / "datasheet.md").read_text(encoding="utf-8")
    # the stewards' Markdown formatting is kept, their raw HTML shown as text
    assert "*emphasis*" in sheet
    assert "&lt;script&gt;" in sheet
    card = (release / "README.md").read_text(encoding="utf-8")
    assert "**bold**" in card and "&lt;img" in card


def test_takedown_reason_in_the_changelog_is_text() -> None:
    from datasteward.release.documents.changelog import takedown_entry

    entry = takedown_entry(
        version="1.0.1",
        date="2026-12-04",
        parent="1.0.0",
        removed=1,
        requests=[{"takedown_id": 3, "kind": "url", "reason": "<script>PWN</script>\n# x"}],
    )
    tags = assert_inert("# Changelog\n\n" + entry, name="CHANGELOG.md")
    assert len(tags.headings) == 2


@pytest.mark.parametrize(
    "value",
    [*LICENSES, *AUTHORS, *URLS, "***", "___", "+ x", "> quote", "<https://e.example>", "&#60;"],
)
def test_md_helpers_render_the_value_and_only_it(value: str) -> None:
    for helper in (md_text, md_code, md_url):
        tags = assert_inert(f"- {helper(value)}\n", name=f"{helper.__name__}({value!r})")
        assert [t for t, _ in tags.tags if t not in ("a", "code")] == ["ul", "li"]


def test_md_text_is_readable_for_ordinary_values() -> None:
    assert md_text("CC-BY-4.0") == "CC-BY-4.0"
    assert md_text("jane_doe@example.org") == "jane_doe@example.org"
    assert md_text("O'Brien, Mary") == "O'Brien, Mary"
    assert md_code("web") == "`web`"
    assert md_code("a`b") == "``a`b``"
    assert md_url("https://example.org/a b") == "<https://example.org/a%20b>"
    assert safe_http_url("ftp://example.org/") is None
    assert md_prose("a <b> & *c*\nd") == "a &lt;b&gt; &amp; *c*\nd"
