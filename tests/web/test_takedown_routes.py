"""The takedown routes through the ASGI test client, on SQLite and PostgreSQL, with a real
SMTP server on 127.0.0.1: file (multipart, CSRF, evidence), confirm from the e-mailed link,
follow the private status page, triage (preview, approve as a job, decline), the e-mails; the
rate limit refuses a flood while legitimate requests interleaved with it are recorded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from takedown_kit import Inbox, body, closed_port, released_urls, wait_job, with_mail
from web_kit import WebProject, csrf

from datasteward.ledger import LEDGER_URL_ENV

pytest.importorskip("aiosmtpd", reason="pip install 'datasteward[dev]'")
LINK = re.compile(r"https?://\S+/takedown/(confirm|status)/(\S+)")


@pytest.fixture
def mail_site(
    project: Path, ledger_url: str | None, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebProject]:
    """The site with [web] smtp_url pointing at the local SMTP server (SQLite and PostgreSQL;
    the takedown library reads the ledger URL from the environment, as `serve` sets it)."""
    with_mail(project, inbox.url)
    if ledger_url is not None:
        monkeypatch.setenv(LEDGER_URL_ENV, ledger_url)
    with WebProject.start(project, ledger_url=ledger_url) as wp:
        yield wp


def file_request(c: Any, value: str, *, email: str = "person@example.net", **extra: Any) -> Any:
    token = csrf(c, "/takedown")
    data = {
        "kind": "url",
        "value": value,
        "category": "privacy",
        "explanation": "This article names me and my address.",
        "email": email,
        "_csrf_token": token,
        **extra,
    }
    files = {"evidence": ("letter.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    return c.post("/takedown", data=data, files=files, follow_redirects=False)


def links(msg: Any) -> dict[str, str]:
    return {kind: token for kind, token in LINK.findall(body(msg))}


@pytest.mark.slow
def test_file_confirm_triage_approve_and_follow(mail_site: WebProject, inbox: Inbox) -> None:
    url = released_urls(mail_site.project)[5]
    anon = mail_site.client()
    r = file_request(anon, url)
    assert r.status_code == 303 and r.headers["location"] == "/takedown/sent"
    (mail,) = inbox.wait_for(1)
    assert mail["To"] == "person@example.net" and "Confirm" in mail["Subject"]
    tokens = links(mail)
    status = anon.get(f"/takedown/status/{tokens['status']}")
    assert status.status_code == 200 and 'id="status">unconfirmed<' in status.text
    # a GET of the confirmation link (a mail scanner) confirms nothing
    assert anon.get(f"/takedown/confirm/{tokens['confirm']}").status_code == 200
    assert 'id="status">unconfirmed<' in anon.get(f"/takedown/status/{tokens['status']}").text
    token = csrf(anon, f"/takedown/confirm/{tokens['confirm']}")
    done = anon.post(f"/takedown/confirm/{tokens['confirm']}", data={"_csrf_token": token})
    assert done.status_code == 200 and 'id="confirmed"' in done.text
    page = anon.get(f"/takedown/status/{tokens['status']}").text
    assert 'id="status">matched<' in page
    assert "1 record in release 1.0.0 (1)" in page
    assert url not in page.replace(url, "", 1)  # the requester's own URL once, no records
    with mail_site.ledger() as ledger:
        (row,) = ledger.list_web_requests()
    rid = int(row["request_id"])
    assert row["evidence"] and '"application/pdf"' in row["evidence"]

    steward = mail_site.client("maintainer")
    listing = steward.get("/manage/takedowns")
    assert f"/manage/takedowns/{rid}" in listing.text
    detail = steward.get(f"/manage/takedowns/{rid}").text
    assert 'id="preview-count">2 records match' in detail and url in detail  # 1.0.0 + the run
    token = csrf(steward, f"/manage/takedowns/{rid}")
    r = steward.post(
        f"/manage/takedowns/{rid}/approve", data={"_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    page = wait_job(steward, rid)
    assert 'data-state="done"' in page, page
    assert (mail_site.project / "releases" / "1.0.1").is_dir()
    assert url not in released_urls(mail_site.project, "1.0.1")
    status = anon.get(f"/takedown/status/{tokens['status']}").text
    assert 'id="status">executed<' in status and "1.0.0 is replaced by 1.0.1" in status
    msgs = inbox.wait_for(2)
    assert len(msgs) == 2 and "was executed" in msgs[1]["Subject"]
    # the public page now shows the patch release
    assert "1.0.1" in anon.get("/").text
    # a second approval of the same request is refused
    token = csrf(steward, "/manage/takedowns")
    again = steward.post(f"/manage/takedowns/{rid}/approve", data={"_csrf_token": token})
    assert again.status_code == 409
    with mail_site.ledger() as ledger:
        assert ledger.verify().ok


def test_decline_tells_the_reason(mail_site: WebProject, inbox: Inbox) -> None:
    anon = mail_site.client()
    assert file_request(anon, "https://example.org/nothing-here").status_code == 303
    tokens = links(inbox.wait_for(1)[0])
    token = csrf(anon, f"/takedown/confirm/{tokens['confirm']}")
    anon.post(f"/takedown/confirm/{tokens['confirm']}", data={"_csrf_token": token})
    with mail_site.ledger() as ledger:
        rid = int(ledger.list_web_requests()[0]["request_id"])
    steward = mail_site.client("maintainer")
    token = csrf(steward, f"/manage/takedowns/{rid}")
    empty = steward.post(
        f"/manage/takedowns/{rid}/decline", data={"_csrf_token": token, "reason": " "}
    )
    assert empty.status_code == 400
    r = steward.post(
        f"/manage/takedowns/{rid}/decline",
        data={"_csrf_token": token, "reason": "No record of the dataset has this URL."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = anon.get(f"/takedown/status/{tokens['status']}").text
    assert 'id="status">declined<' in page and "No record of the dataset has this URL." in page
    msgs = inbox.wait_for(2)
    assert "declined" in msgs[1]["Subject"]
    assert "No record of the dataset has this URL." in body(msgs[1])


def test_form_refusals(mail_site: WebProject, inbox: Inbox) -> None:
    anon = mail_site.client()
    # no CSRF token: refused before anything is recorded
    r = anon.post("/takedown", data={"kind": "url", "value": "https://a.example/x"})
    assert r.status_code == 403
    bad = file_request(anon, "not a url")
    assert bad.status_code == 400 and "a URL starts with http" in bad.text
    elf = Path("/bin/true").read_bytes()
    token = csrf(anon, "/takedown")
    r = anon.post(
        "/takedown",
        data={"kind": "url", "value": "https://a.example/x", "category": "other",
              "explanation": "", "email": "p@example.net", "_csrf_token": token},
        files={"evidence": ("x.pdf", elf, "application/pdf")},
    )  # fmt: skip
    assert r.status_code == 400 and "not a PDF, PNG, JPEG or UTF-8 text" in r.text
    assert anon.get("/takedown/status/" + "A" * 43).status_code == 404
    assert anon.get("/takedown/confirm/1.99999999999.forged").status_code == 400
    with mail_site.ledger() as ledger:
        assert ledger.list_web_requests() == []
    assert inbox.messages == []


class ClientAddress:
    """Test-only ASGI wrapper: the client address from an ``x-test-client`` header, so one
    test client can speak from several addresses (the app itself never trusts a header)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for k, v in scope.get("headers", []):
                if k == b"x-test-client":
                    scope = {**scope, "client": (v.decode(), 40000)}
        await self.app(scope, receive, send)


def test_a_flood_is_refused_while_legitimate_requests_get_through(
    project: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from litestar.testing import TestClient

    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    with_mail(project, inbox.url)
    with WebProject.start(project, ledger_url=None) as wp:
        limit = 5  # the site's default takedown throttle: 5 POSTs a minute per address
        statuses: list[int] = []
        legit: list[int] = []
        with TestClient(ClientAddress(wp.app), base_url="http://127.0.0.1") as c:
            for i in range(60):
                c.headers["x-test-client"] = "203.0.113.66"  # the flooder
                statuses.append(file_request(c, f"https://flood.example/{i}").status_code)
                if i % 6 == 0:  # ten people filing real requests in between
                    c.headers["x-test-client"] = f"198.51.100.{i}"
                    legit.append(
                        file_request(
                            c, f"https://example.org/mine/{i}", email=f"p{i}@example.net"
                        ).status_code
                    )
        with wp.ledger() as ledger:
            rows = ledger.list_web_requests()
    assert statuses.count(303) == limit and statuses.count(429) == 60 - limit
    assert legit == [303] * 10
    emails = {r["email"] for r in rows}
    assert all(f"p{i}@example.net" in emails for i in range(0, 60, 6))
    assert len(rows) == limit + 10


def test_a_confirmation_that_cannot_be_sent_is_said(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    port = closed_port()
    with_mail(project, Inbox("127.0.0.1", port).url)
    with WebProject.start(project, ledger_url=None) as wp:
        r = file_request(wp.client(), "https://example.org/a")
        assert r.status_code == 503 and "could not send the confirmation" in r.text
        with wp.ledger() as ledger:
            (notice,) = ledger.list_notices()
            (row,) = ledger.list_web_requests()
    assert notice["error"] and f"127.0.0.1:{port}" in notice["error"]
    assert row["status"] == "unconfirmed"
