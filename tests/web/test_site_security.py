"""The site's security properties, each on the real app: CSRF, headers and CSP, file
containment, hostile text, throttles, lockout, body size."""

from __future__ import annotations

import asyncio
import os
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from datafiles import data_file
from web_kit import PASSWORD, WebProject, csrf, login

from datasteward.web.security import CSP

# -- CSRF, headers -------------------------------------------------------------------------


def test_a_post_without_a_csrf_token_is_refused(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    c.get("/login")  # the CSRF cookie is set, but the form field is missing
    r = c.post("/login", data={"name": "maintainer", "password": PASSWORD})
    assert r.status_code == 403
    wrong = c.post("/login", data={"name": "maintainer", "password": PASSWORD,
                                   "_csrf_token": "0" * 128})  # fmt: skip
    assert wrong.status_code == 403
    # a maintainer's decision without a token is refused too
    m = sqlite_site.client("maintainer")
    r = m.post("/manage/access/1/decide", data={"decision": "approve"})
    assert r.status_code == 403 and "this page needs" not in r.text  # CSRF, not the role


def test_security_headers_and_csp_on_every_kind_of_response(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    expected = {"/": 200, "/releases/1.0.0": 200, "/status.json": 200, "/static/site.css": 200,
                "/no/such/page": 404, "/manage": 401}  # fmt: skip
    for path, status in expected.items():
        r = c.get(path)
        assert r.status_code == status, path
        csp = r.headers["content-security-policy"]
        assert csp == CSP and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(sqlite_site: WebProject) -> None:
    c = sqlite_site.client("maintainer")
    for path in ("/", "/releases/1.0.0", "/login", "/manage", "/manage/access"):
        audit = _Audit()
        audit.feed(c.get(path).text)
        assert audit.inline_scripts == [], path
        assert audit.style_attributes == [], path
        assert audit.event_handlers == [], path


# -- files ---------------------------------------------------------------------------------


def test_file_routes_cannot_leave_the_release(sqlite_site: WebProject) -> None:
    project = sqlite_site.project
    (project / "secret.txt").write_text("ledger password", "utf-8")
    release = project / "releases" / "1.0.0"
    (release / "escape.md").symlink_to(project / "secret.txt")
    c = sqlite_site.client()
    assert c.get("/releases/1.0.0/files/manifest.json").status_code == 200
    attempts = [
        "/releases/1.0.0/files/../../secret.txt",
        "/releases/1.0.0/files/..%2F..%2Fsecret.txt",
        "/releases/1.0.0/files/%2e%2e/%2e%2e/secret.txt",
        "/releases/1.0.0/files/data%2F..%2F..%2F..%2Fsecret.txt",
        "/releases/1.0.0/files/%2Fetc%2Fpasswd",
        "/releases/1.0.0/files//etc/passwd",
        "/releases/1.0.0/files/..\\..\\secret.txt",
        "/releases/1.0.0/files/escape.md",
        "/releases/1.0.0/files/data/%00",
        "/releases/..%2F..%2Fsecret.txt/files/x",
    ]
    for path in attempts:
        r = c.get(path)
        assert r.status_code in (400, 404), (path, r.status_code)
        assert "ledger password" not in r.text, path


def test_a_listed_file_that_became_a_symlink_is_not_served(sqlite_site: WebProject) -> None:
    from datasteward.release.format.manifest import read_manifest

    project = sqlite_site.project
    release = project / "releases" / "1.0.0"
    (project / "secret.txt").write_text("ledger password", "utf-8")
    listed = next(f.path for f in read_manifest(release).files if f.path == "NOTICE.md")
    (release / listed).unlink()
    (release / listed).symlink_to(project / "secret.txt")
    r = sqlite_site.client().get(f"/releases/1.0.0/files/{listed}")
    assert r.status_code == 404 and "ledger password" not in r.text


def test_downloads_stream_the_manifest_bytes(sqlite_site: WebProject) -> None:
    import hashlib

    from datasteward.release.format.manifest import read_manifest

    release = sqlite_site.project / "releases" / "1.0.0"
    c = sqlite_site.client()
    for f in read_manifest(release).files:
        r = c.get(f"/releases/1.0.0/files/{f.path}")
        assert r.status_code == 200, f.path
        assert hashlib.sha256(r.content).hexdigest() == f.sha256, f.path
        assert "attachment" in r.headers["content-disposition"]


# -- hostile text --------------------------------------------------------------------------

SCRIPTED = [
    "<script>alert('pwned')</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(document.cookie)",
    "</script><script>alert(2)</script>",
    "<svg onload=alert(3)>",
]


def _hostile_lines() -> list[str]:
    """Real hostile text: the LDNOOBW English list and, when available, TweetEval's hate
    test tweets; plus markup and script payloads as records carry them."""
    lines = data_file("ldnoobw", "en").read_text("utf-8").splitlines()[:40]
    tweets = data_file("benchmarks", "tweeteval", "hate", "test_text.txt")
    if tweets.is_file():  # TweetEval is not redistributable: only where ../shared/data is
        lines += tweets.read_text("utf-8").splitlines()[:40]
    return lines + SCRIPTED


class _Audit(HTMLParser):
    """What could execute in a page: script elements that are not JSON-LD, event handler
    attributes, javascript: URLs, inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.event_handlers: list[str] = []
        self.js_urls: list[str] = []
        self.style_attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and named.get("type") != "application/ld+json":
            self.inline_scripts.append(str(named))
        for key, value in attrs:
            if key.startswith("on"):
                self.event_handlers.append(f"{tag} {key}={value}")
            if (
                key in ("href", "src", "action", "formaction")
                and value
                and (value.strip().lower().startswith(("javascript:", "data:text/html")))
            ):
                self.js_urls.append(f"{tag} {key}={value}")
            if key == "style":
                self.style_attributes.append(tag)


def _assert_inert(html: str) -> None:
    audit = _Audit()
    audit.feed(html)
    assert audit.inline_scripts == []
    assert audit.event_handlers == []
    assert audit.js_urls == []


def test_hostile_text_in_an_access_request_is_escaped(sqlite_site: WebProject) -> None:

    text = "\n".join(_hostile_lines())
    with sqlite_site.ledger() as ledger:
        ledger.request_access(
            version="1.0.0", name=SCRIPTED[0], affiliation=SCRIPTED[1], email="a@example.org",
            intended_use=text, terms_sha256="0" * 64, status_token_sha256="1" * 64,
        )  # fmt: skip
    page = sqlite_site.client("maintainer").get("/manage/access")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text
    _assert_inert(page.text)


def test_hostile_deprecation_reason_is_shown_first_and_escaped(sqlite_site: WebProject) -> None:
    from datasteward.release.build.deprecate import deprecate

    reason = " ".join(SCRIPTED) + " " + " ".join(_hostile_lines()[:10])
    deprecate(sqlite_site.project, "1.0.0", reason=reason, replacement=None,
              sunset="2027-01-31", access="archived", by=SCRIPTED[1])  # fmt: skip
    page = sqlite_site.client().get("/releases/1.0.0")
    assert page.status_code == 200
    body = page.text
    notice = body.index("is deprecated")
    assert notice < body.index("<h1>"), "the deprecation notice comes before the page"
    assert body.index("2027-01-31") < body.index("<h1>")
    assert "&lt;svg onload=alert(3)&gt;" in body
    _assert_inert(body)
    home = sqlite_site.client().get("/")
    assert home.text.index("is deprecated") < home.text.index("<h1>")
    _assert_inert(home.text)


def test_hostile_markdown_is_sanitised() -> None:
    from datasteward.web.templating import markdown_html

    md = "\n\n".join([
        "[click](javascript:alert(1))",
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "![x](javascript:alert(2))",
        "[ok](https://example.org/a?b=1)",
        *_hostile_lines(),
    ])  # fmt: skip
    html = str(markdown_html(md))
    _assert_inert(html)
    assert 'href="https://example.org/a?b=1"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_json_for_a_script_element_cannot_close_it() -> None:
    import json

    from datasteward.html import json_for_script

    data = {"name": "</script><script>alert(1)</script>", "x": "a & b > c \u2028\u2029 <!--"}
    text = str(json_for_script(data))
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == data


def test_croissant_is_embedded_as_json_ld(sqlite_site: WebProject) -> None:
    import json
    import re

    page = sqlite_site.client().get("/releases/1.0.0").text
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert m
    embedded = json.loads(m.group(1))
    on_disk = json.loads((sqlite_site.project / "releases/1.0.0/croissant.json").read_text())
    assert embedded == on_disk
    for f in on_disk["distribution"]:
        if "sha256" in f:
            assert f["sha256"] in page  # raw files listed with their sha256


# -- throttles, lockout, limits ------------------------------------------------------------


def test_a_login_flood_is_refused_but_a_legitimate_login_gets_through(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Throttle per client address (Litestar's rate-limit middleware): a flood from one address
    gets 429; a login from another address goes through during the flood, and the flooder's
    own login once its window has passed (the middleware's clock is moved on, no sleeping)."""
    import litestar.middleware.rate_limit as rate_limit

    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(rate_limit, "time", lambda: clock["now"])
    with WebProject.start(project, ledger_url=None, throttles={"login": ("minute", 5)}) as wp:
        flooder = wp.client()
        token = csrf(flooder)
        codes = []
        for _ in range(60):
            r = flooder.post("/login", data={"name": "maintainer", "password": "guess",
                                             "_csrf_token": token})  # fmt: skip
            codes.append(r.status_code)
        assert codes[:5] == [401] * 5, codes  # wrong password: answered
        assert codes[5:] == [429] * 55, codes  # then refused before the password is checked
        assert "retry-after" in {k.lower() for k in r.headers} or "ratelimit-reset" in {
            k.lower() for k in r.headers
        }
        # elsewhere: another client address, during the flood
        assert asyncio.run(_login_from(wp, ("203.0.113.7", 40000))) == 303
        # reading the login form is never throttled
        assert flooder.get("/login").status_code == 200
        # afterwards: the same address once its window is over
        clock["now"] += 61
        r = login(flooder, "viewer", PASSWORD)
        assert r.status_code == 303


async def _login_from(wp: WebProject, address: tuple[str, int]) -> int:
    """Log in as the viewer from another client address (the ASGI scope's ``client``)."""
    import re

    transport = httpx.ASGITransport(app=wp.app, client=address)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as other:
        page = await other.get("/login")
        m = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert m
        r = await other.post("/login", data={"name": "viewer", "password": PASSWORD,
                                             "_csrf_token": m.group(1)})  # fmt: skip
        return r.status_code


def test_repeated_failures_lock_the_account(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    for _ in range(5):  # lockout_after = 5
        assert login(c, "reviewer", "wrong password").status_code == 401
    locked = login(c, "reviewer", PASSWORD)
    assert locked.status_code == 403 and "locked" in locked.text
    assert login(c, "viewer", PASSWORD).status_code == 303  # other accounts are not locked


def test_the_lock_ends(sqlite_site: WebProject) -> None:
    from datetime import timedelta

    with sqlite_site.ledger() as ledger:
        access = ledger
        for _ in range(3):
            access.login_failed("viewer", lock_after=3, lock_for=timedelta(seconds=-1))
        creds = access.credentials("viewer")
        assert creds is not None and creds.locked_until is not None
    # locked until a moment in the past: the lock is over
    assert login(sqlite_site.client(), "viewer", PASSWORD).status_code == 303


def test_body_size_is_limited(project: Path) -> None:
    with WebProject.start(project, ledger_url=None, max_body_bytes=4096) as wp:
        c = wp.client()
        token = csrf(c)
        r = c.post("/login", data={"name": "x" * 10_000, "password": "y", "_csrf_token": token})
        assert r.status_code == 413


def test_secrets_are_not_written_to_the_project(sqlite_site: WebProject) -> None:
    from web_kit import SECRET

    c = sqlite_site.client("maintainer")
    assert c.get("/manage").status_code == 200
    for root, _, files in os.walk(sqlite_site.project):
        for name in files:
            data = (Path(root) / name).read_bytes()
            assert SECRET not in data, name
            assert PASSWORD.encode() not in data, name
