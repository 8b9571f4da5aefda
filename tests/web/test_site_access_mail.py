"""Gated access by e-mail, with a real SMTP server on 127.0.0.1 (aiosmtpd): an approved person
receives the signed, expiring download links; a denied person receives the reason; a
maintainer is told when the e-mail could not go. When a takedown's patch release supersedes
the version a person downloaded through the site, that person is e-mailed."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from takedown_kit import Inbox, body, closed_port, released_urls, takedown_executed, with_mail
from web_kit import WebProject, decide_access, request_access

from datasteward.ledger import LEDGER_URL_ENV
from datasteward.release.format.manifest import read_manifest

pytest.importorskip("aiosmtpd", reason="pip install 'datasteward[dev]'")
TERMS = "Research use only. Do not redistribute."
BASE = "http://127.0.0.1"
FILE_LINK = re.compile(r"https?://\S+?(/releases/[^/\s]+/files/\S+\?token=\S+)")


def _gated_with_mail(project: Path, smtp_url: str) -> None:
    recipe = project / "datasteward.toml"
    recipe.write_text(
        recipe.read_text("utf-8") + f'\n[release]\naccess = "gated"\nterms = "{TERMS}"\n', "utf-8"
    )
    with_mail(project, smtp_url)


@pytest.fixture
def gated(
    project: Path, ledger_url: str | None, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebProject]:
    _gated_with_mail(project, inbox.url)
    if ledger_url is not None:  # the takedown library reads the ledger URL as `serve` sets it
        monkeypatch.setenv(LEDGER_URL_ENV, ledger_url)
    with WebProject.start(project, ledger_url=ledger_url) as wp:
        yield wp


def _gated_files(project: Path) -> list[Any]:
    files = read_manifest(project / "releases" / "1.0.0").files
    return sorted((f for f in files if f.role in ("data", "index")), key=lambda f: f.path)


def test_approval_e_mails_links_that_download_and_then_expire(
    gated: WebProject, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_access(gated, "Ada")
    assert inbox.messages == []  # nothing is sent before a decision
    r = decide_access(gated, 1, "approve")
    assert r.status_code == 303 and "mail=failed" not in r.headers["location"]
    (mail,) = inbox.wait_for(1)
    assert mail["To"] == "ada@example.org" and mail["From"] == "stewards@example.org"
    assert "approved" in mail["Subject"] and "site-test 1.0.0" in mail["Subject"]
    text = body(mail)
    assert TERMS in text and "24 hours" in text
    links = sorted(FILE_LINK.findall(text))
    files = _gated_files(gated.project)
    assert len(links) == len(files) and files
    anon = gated.client()  # the person, in a browser that never saw the site
    for link, entry in zip(links, files, strict=True):
        assert f"/files/{entry.path}?" in link
        got = anon.get(link)
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == entry.sha256
    with gated.ledger() as ledger:
        downloads = ledger.downloads(version="1.0.0")
        notices = ledger.list_notices()
        assert ledger.verify().ok
    assert [d.request_id for d in downloads] == [1] * len(files)
    assert [(n["kind"], n["email"], n["error"]) for n in notices] == [
        ("access", "ada@example.org", None)
    ]
    # a day later the same links are refused
    later = time.time() + 24 * 3600 + 60
    monkeypatch.setattr("datasteward.web.signing.time", SimpleNamespace(time=lambda: later))
    expired = anon.get(links[0])
    assert expired.status_code == 403 and "expired" in expired.text


def test_denial_e_mails_the_reason(gated: WebProject, inbox: Inbox) -> None:
    request_access(gated, "Eve")
    reason = "Commercial use is not covered by the terms."
    assert decide_access(gated, 1, "deny", reason).status_code == 303
    (mail,) = inbox.wait_for(1)
    assert mail["To"] == "eve@example.org" and "denied" in mail["Subject"]
    text = body(mail)
    assert reason in text and "token=" not in text


def test_a_maintainer_is_told_when_the_e_mail_could_not_go(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    port = closed_port()
    _gated_with_mail(project, f"smtp://127.0.0.1:{port}")
    with WebProject.start(project, ledger_url=None) as wp:
        status_url = request_access(wp, "Ada")
        r = decide_access(wp, 1, "approve")
        assert r.status_code == 303 and r.headers["location"].endswith("?mail=failed")
        page = wp.client("maintainer").get(r.headers["location"])
        assert "could not be e-mailed" in page.text
        # the decision stands; the person still finds the links on their private page
        assert ">approved<" in wp.client().get(status_url).text
        with wp.ledger() as ledger:
            (notice,) = ledger.list_notices()
    assert notice["kind"] == "access" and f"127.0.0.1:{port}" in notice["error"]


@pytest.mark.slow
def test_gated_downloaders_are_told_when_a_patch_supersedes_their_version(
    gated: WebProject, inbox: Inbox
) -> None:
    # Ada downloads one data file with her e-mailed link; Bob is approved but downloads nothing
    request_access(gated, "Ada")
    request_access(gated, "Bob")
    decide_access(gated, 1, "approve")
    decide_access(gated, 2, "approve")
    mails = inbox.wait_for(2)
    ada = next(m for m in mails if m["To"] == "ada@example.org")
    link = FILE_LINK.findall(body(ada))[0]
    assert gated.client().get(link).status_code == 200
    # someone in the data files a takedown; a maintainer approves it
    takedown_executed(gated, inbox, released_urls(gated.project)[3])
    msgs = inbox.wait_for(5)
    superseded = [m for m in msgs if "superseded" in str(m["Subject"])]
    assert [m["To"] for m in superseded] == ["ada@example.org"]  # Bob downloaded nothing
    text = body(superseded[0])
    assert "1.0.0" in text and f"{BASE}/releases/1.0.1" in text
    with gated.ledger() as ledger:
        kinds = sorted((n["kind"], n["email"]) for n in ledger.list_notices())
    assert ("downloader", "ada@example.org") in kinds
    assert ("downloader", "bob@example.org") not in kinds
