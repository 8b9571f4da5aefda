"""Gated downloads end to end on the app (SQLite and PostgreSQL): request with the terms,
a maintainer's decision, the private status page, expiring signed links, the ledger events;
and withdrawn releases as tombstones."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_kit import WebProject, csrf, decide_access, request_access

from datasteward.release.format.manifest import read_manifest

TERMS = "Research use only. Do not redistribute. Cite **site-test 1.0.0**."


@pytest.fixture
def gated(project: Path, ledger_url: str | None) -> Iterator[WebProject]:
    recipe = project / "datasteward.toml"
    recipe.write_text(
        recipe.read_text("utf-8") + f'\n[release]\naccess = "gated"\nterms = "{TERMS}"\n', "utf-8"
    )
    with WebProject.start(project, ledger_url=ledger_url) as wp:
        yield wp


def _request(wp: WebProject, name: str) -> str:
    """File an access request as an anonymous person, after checking that the form shows the
    terms; returns their private status URL."""
    form = wp.client().get("/releases/1.0.0/access")
    assert form.status_code == 200 and "Research use only" in form.text
    return request_access(wp, name)


def _decide(wp: WebProject, request_id: int, decision: str, reason: str = "") -> None:
    r = decide_access(wp, request_id, decision, reason)
    assert r.status_code == 303, r.text


def test_gated_request_approval_download(gated: WebProject) -> None:
    release = gated.project / "releases" / "1.0.0"
    data = [f for f in read_manifest(release).files if f.role in ("data", "index")]
    assert any(f.role == "data" for f in data)
    anon = gated.client()
    # without a link: refused, pointing to the request form; documents stay public
    r = anon.get(f"/releases/1.0.0/files/{data[0].path}")
    assert r.status_code == 403 and "/releases/1.0.0/access" in r.text
    assert anon.get("/releases/1.0.0/files/datasheet.md").status_code == 200
    status_url = _request(gated, "Ada")
    page = anon.get(status_url)
    assert page.status_code == 200 and ">pending<" in page.text
    assert "/files/" not in page.text
    _decide(gated, 1, "approve")
    page = anon.get(status_url)
    assert ">approved<" in page.text
    links = re.findall(r'href="(/releases/1\.0\.0/files/[^"]+\?token=[^"]+)"', page.text)
    assert len(links) == len(data)
    for link, entry in zip(sorted(links), sorted(data, key=lambda f: f.path), strict=True):
        r = anon.get(link.replace("&amp;", "&"))
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() == entry.sha256
    with gated.ledger() as ledger:
        types = [e.type for e in ledger.events(limit=1000)]
        verdict = ledger.verify()
    assert "access.requested" in types and "access.approved" in types
    assert types.count("access.download") == len(data)
    assert verdict.ok, verdict
    # the maintainer sees the decision
    listing = gated.client("maintainer").get("/manage/access").text
    assert "Ada" in listing and "approved" in listing


def test_denied_person_gets_403(gated: WebProject) -> None:
    from datasteward.web.signing import sign

    status_url = _request(gated, "Eve")
    _decide(gated, 1, "deny", reason="Commercial use is not covered by the terms.")
    anon = gated.client()
    page = anon.get(status_url)
    assert ">denied<" in page.text and "Commercial use is not covered" in page.text
    assert "token=" not in page.text
    # a link for the denied request, signed with the site's own key, is still refused
    key = gated.app.state.site.settings.key("download")
    token = sign(key, {"p": "download", "r": 1, "v": "1.0.0"}, ttl_seconds=600)
    data = next(f for f in read_manifest(gated.project / "releases/1.0.0").files
                if f.role == "data")  # fmt: skip
    r = anon.get(f"/releases/1.0.0/files/{data.path}?token={token}")
    assert r.status_code == 403 and "not approved" in r.text
    # a denial needs a reason; a decided request cannot be decided again
    m = gated.client("maintainer")
    token = csrf(m, "/manage/access")
    again = m.post("/manage/access/1/decide", data={"decision": "approve", "_csrf_token": token})
    assert again.status_code == 400 and "already denied" in again.text


def test_links_expire_and_cannot_be_forged(gated: WebProject) -> None:
    from datasteward.web.signing import sign

    _request(gated, "Ada")
    _decide(gated, 1, "approve")
    key = gated.app.state.site.settings.key("download")
    data = next(f for f in read_manifest(gated.project / "releases/1.0.0").files
                if f.role == "data")  # fmt: skip
    anon = gated.client()
    expired = sign(key, {"p": "download", "r": 1, "v": "1.0.0"}, ttl_seconds=-5)
    r = anon.get(f"/releases/1.0.0/files/{data.path}?token={expired}")
    assert r.status_code == 403 and "expired" in r.text
    forged = sign(b"k" * 32, {"p": "download", "r": 1, "v": "1.0.0"}, ttl_seconds=600)
    assert anon.get(f"/releases/1.0.0/files/{data.path}?token={forged}").status_code == 403
    good = sign(key, {"p": "download", "r": 1, "v": "1.0.0"}, ttl_seconds=600)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert anon.get(f"/releases/1.0.0/files/{data.path}?token={tampered}").status_code == 403
    assert anon.get(f"/releases/1.0.0/files/{data.path}?token={good}").status_code == 200


def test_the_request_form_checks_its_fields(gated: WebProject) -> None:
    c = gated.client()
    r = c.post(
        "/releases/1.0.0/access",
        data={"name": "", "affiliation": "Uni", "email": "not-an-address",
              "intended_use": "x", "_csrf_token": csrf(c, "/releases/1.0.0/access")},
    )  # fmt: skip
    assert r.status_code == 400
    for message in ("name is required", "does not look like", "accept the terms"):
        assert message in r.text
    with gated.ledger() as ledger:
        assert "access.requested" not in [e.type for e in ledger.events(limit=1000)]


def test_a_withdrawn_release_is_a_tombstone(site: WebProject) -> None:
    from datasteward.release.format.status import mark_superseded

    release = site.project / "releases" / "1.0.0"
    mark_superseded(release, patch="1.0.1", takedown_ids=[1], withdrawn_ids=["c4:x"])
    c = site.client()
    page = c.get("/releases/1.0.0")
    assert page.status_code == 410
    assert "no longer available" in page.text and 'href="/releases/1.0.1"' in page.text
    assert page.text.index("superseded") < page.text.index("<h1>")
    assert "application/ld+json" not in page.text and "/files/" not in page.text
    assert c.get("/releases/1.0.0/files/manifest.json").status_code == 410
    status = c.get("/status.json").json()
    entry = status["releases"][0]
    assert entry["status"] == "superseded" and entry["withdrawn"] is True
    assert entry["superseded_by"] == ["1.0.1"] and entry["replacement"] == "1.0.1"
