"""The public pages' memory cache and HTTP validators: a page is rendered once per state of
the release files, carries an ETag (304 to a matching If-None-Match), and a new release, a
deprecation or a withdrawal shows on the very next request (no stale page, no stale 304)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from web_kit import WebProject

from datasteward.web.security import CSP

PAGES = ("/", "/releases/1.0.0", "/status.json")


def _deprecate(site: WebProject, **kw: str) -> None:
    from datasteward.release.build.deprecate import deprecate

    args = {"reason": "Contains PII of minors <b>found in audit</b>", "replacement": None,
            "sunset": "2030-01-01", "access": "archived", "by": "ana"}  # fmt: skip
    args.update(kw)
    deprecate(site.project, "1.0.0", **args)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", PAGES)
def test_etag_and_304_with_every_security_header(sqlite_site: WebProject, path: str) -> None:
    c = sqlite_site.client()
    first = c.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["last-modified"].endswith(" GMT")
    assert "set-cookie" not in first.headers  # nothing per visitor on a public page
    again = c.get(path)  # from memory, before routing (public.cached_pages_first)
    assert again.content == first.content and again.headers["etag"] == etag
    assert {k: v for k, v in again.headers.items() if k != "date"} == {
        k: v for k, v in first.headers.items() if k != "date"
    }  # the same headers as the rendering handler's answer

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = c.get(path, headers={"if-none-match": header})
        assert cached.status_code == 304, header
        assert cached.content == b""
        assert cached.headers["etag"] == etag
        assert cached.headers["content-security-policy"] == CSP
        assert cached.headers["x-content-type-options"] == "nosniff"
        assert cached.headers["x-frame-options"] == "DENY"
    stale = c.get(path, headers={"if-none-match": '"0123456789abcdef0123456789abcdef"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_a_deprecation_shows_on_the_next_request(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    before = {p: c.get(p) for p in PAGES}
    assert "is deprecated" not in before["/releases/1.0.0"].text
    assert c.get("/status.json").json()["releases"][0]["status"] == "current"

    _deprecate(sqlite_site)

    for path, old in before.items():
        r = c.get(path, headers={"if-none-match": old.headers["etag"]})
        assert r.status_code == 200, path  # never a 304 for the old page
        assert r.headers["etag"] != old.headers["etag"], path
    page = c.get("/releases/1.0.0").text
    assert "Version 1.0.0 is deprecated" in page
    assert "Contains PII of minors &lt;b&gt;found in audit&lt;/b&gt;" in page
    assert "Version 1.0.0 is deprecated" in c.get("/").text
    entry = c.get("/status.json").json()["releases"][0]
    assert entry["status"] == "deprecated" and entry["deprecation"]["sunset"] == "2030-01-01"


def test_a_withdrawn_release_becomes_a_tombstone_at_once(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    assert c.get("/releases/1.0.0").status_code == 200
    _deprecate(sqlite_site, access="deleted")
    r = c.get("/releases/1.0.0")
    assert r.status_code == 410 and "etag" in r.headers
    assert c.get("/releases/1.0.0", headers={"if-none-match": r.headers["etag"]}).status_code == 304
    assert c.get("/status.json").json()["releases"][0]["withdrawn"] is True


def test_a_new_release_shows_on_the_next_request(sqlite_site: WebProject) -> None:
    from datasteward.release.build.make import make_release

    c = sqlite_site.client()
    home = c.get("/")
    assert "/releases/1.1.0" not in home.text
    assert c.get("/releases/1.1.0").status_code == 404
    make_release(sqlite_site.project, "1.1.0", max_shard_bytes=100_000)
    r = c.get("/", headers={"if-none-match": home.headers["etag"]})
    assert r.status_code == 200 and "/releases/1.1.0" in r.text
    assert 'Current release: <a href="/releases/1.1.0">' in r.text  # published beats draft
    assert c.get("/releases/1.1.0").status_code == 200
    assert [e["version"] for e in c.get("/status.json").json()["releases"]] == ["1.1.0", "1.0.0"]


def test_a_stewards_copy_is_not_cached_and_can_log_out(sqlite_site: WebProject) -> None:
    from datasteward.web.public import cached_page

    anon = sqlite_site.client()
    etag = anon.get("/releases/1.0.0").headers["etag"]
    assert cached_page(sqlite_site.app.state.site, "/releases/1.0.0") is not None
    steward = sqlite_site.client("viewer")
    steward.cookies.delete("ds_csrf")  # e.g. a browser restarted: the session cookie outlives it
    page = steward.get("/releases/1.0.0", headers={"if-none-match": etag})
    assert page.status_code == 200 and "viewer (viewer)" in page.text
    assert "etag" not in page.headers and page.headers["cache-control"] == "no-store"
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token and steward.cookies.get("ds_csrf")  # the page gave the token and its cookie
    out = steward.post("/logout", data={"_csrf_token": token.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert steward.get("/manage").status_code == 401
    # and the anonymous copy never carried the steward's name
    assert "viewer (viewer)" not in anon.get("/releases/1.0.0").text


def test_open_data_files_are_streamed_before_routing(sqlite_site: WebProject) -> None:
    import hashlib

    from datasteward.release.format.manifest import read_manifest
    from datasteward.web.public_files import open_file

    site = sqlite_site.app.state.site
    c = sqlite_site.client()
    manifest = read_manifest(sqlite_site.project / "releases" / "1.0.0")
    data = [f for f in manifest.files if f.role in ("data", "index")]
    assert data
    for entry in data:
        path = f"/releases/1.0.0/files/{entry.path}"
        assert open_file(site, path) is not None  # this layer serves it
        fast = c.get(path)
        assert fast.status_code == 200
        assert hashlib.sha256(fast.content).hexdigest() == entry.sha256
        assert int(fast.headers["content-length"]) == entry.bytes
        assert fast.headers["content-security-policy"] == CSP
        assert fast.headers["x-content-type-options"] == "nosniff"
        assert "set-cookie" not in fast.headers
        app = c.get(path, params={"via": "app"})  # a query string goes to the application
        assert app.content == fast.content
        for header in ("content-type", "content-disposition", "cache-control"):
            assert fast.headers[header] == app.headers[header], header
    # documents, the manifest, unknown files and traversal are the application's
    for other in ("datasheet.md", "manifest.json", "data/nope.parquet", "../datasteward.toml",
                  "data/%2e%2e/manifest.json"):  # fmt: skip
        assert open_file(site, f"/releases/1.0.0/files/{other}") is None, other
    assert c.get("/releases/1.0.0/files/../../datasteward.toml").status_code == 404


def test_a_withdrawn_or_gated_release_is_not_streamed(sqlite_site: WebProject) -> None:
    from datasteward.release.format.manifest import read_manifest
    from datasteward.web.public_files import open_file

    site = sqlite_site.app.state.site
    entry = next(
        f for f in read_manifest(sqlite_site.project / "releases" / "1.0.0").files
        if f.role == "data"
    )  # fmt: skip
    path = f"/releases/1.0.0/files/{entry.path}"
    assert open_file(site, path) is not None
    _deprecate(sqlite_site, access="deleted")
    assert open_file(site, path) is None
    assert sqlite_site.client().get(path).status_code == 410


def test_gated_data_files_need_the_application(project: Path) -> None:
    from datasteward.release.format.manifest import read_manifest
    from datasteward.web.public_files import open_file

    recipe = project / "datasteward.toml"
    recipe.write_text(
        recipe.read_text("utf-8") + '\n[release]\naccess = "gated"\nterms = "Research only."\n',
        "utf-8",
    )
    entry = next(f for f in read_manifest(project / "releases" / "1.0.0").files if f.role == "data")
    with WebProject.start(project, ledger_url=None) as wp:
        path = f"/releases/1.0.0/files/{entry.path}"
        assert open_file(wp.app.state.site, path) is None
        assert wp.client().get(path).status_code == 403
