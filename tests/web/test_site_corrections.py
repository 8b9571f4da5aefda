"""The "notify me of corrections" form for open releases, with a real SMTP server on 127.0.0.1: an
address is kept only once confirmed from the e-mailed link (double opt-in), the same link
cancels it, and a takedown's patch release e-mails the confirmed addresses once and deletes
them. Open downloads themselves are not recorded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from takedown_kit import Inbox, body, released_urls, takedown_executed, with_mail
from web_kit import WebProject, csrf

from datasteward.ledger import LEDGER_URL_ENV

pytest.importorskip("aiosmtpd", reason="pip install 'datasteward[dev]'")
BASE = "http://127.0.0.1"
LINK = re.compile(r"https?://\S+?(/notify/confirm/\S+)")


@pytest.fixture
def open_site(
    project: Path, ledger_url: str | None, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebProject]:
    with_mail(project, inbox.url)
    if ledger_url is not None:  # the takedown library reads the ledger URL as `serve` sets it
        monkeypatch.setenv(LEDGER_URL_ENV, ledger_url)
    with WebProject.start(project, ledger_url=ledger_url) as wp:
        yield wp


def _subscribe(wp: WebProject, email: str, *, form: str = "/releases/1.0.0/notify") -> Any:
    c = wp.client()
    return c.post(
        "/releases/1.0.0/notify",
        data={"email": email, "_csrf_token": csrf(c, form)},
        follow_redirects=False,
    )


def _confirm_link(msg: Any) -> str:
    m = LINK.search(body(msg))
    assert m, body(msg)
    return m.group(1)


def _press(wp: WebProject, path: str, action: str) -> Any:
    c = wp.client()
    return c.post(path, data={"action": action, "_csrf_token": csrf(c, path)})


def test_subscribe_confirm_and_cancel(open_site: WebProject, inbox: Inbox) -> None:
    page = open_site.client().get("/releases/1.0.0")
    assert 'href="/releases/1.0.0/notify"' in page.text
    r = _subscribe(open_site, "reader@example.net")
    assert r.status_code == 303 and r.headers["location"] == "/releases/1.0.0/notify/sent"
    (mail,) = inbox.wait_for(1)
    assert mail["To"] == "reader@example.net" and "Confirm" in mail["Subject"]
    path = _confirm_link(mail)
    with open_site.ledger() as ledger:
        assert ledger.subscriber_emails("1.0.0") == []  # not before the confirmation
    # opening the link (a person, or a mail scanner) confirms nothing
    shown = open_site.client().get(path)
    assert shown.status_code == 200 and 'id="confirm"' in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    with open_site.ledger() as ledger:
        assert ledger.subscriber_emails("1.0.0") == []
    done = _press(open_site, path, "confirm")
    assert done.status_code == 200 and 'id="confirmed"' in done.text
    with open_site.ledger() as ledger:
        assert ledger.subscriber_emails("1.0.0") == ["reader@example.net"]
    # the same link cancels, and the address is gone
    gone = _press(open_site, path, "cancel")
    assert gone.status_code == 200 and 'id="cancelled"' in gone.text
    with open_site.ledger() as ledger:
        assert ledger.subscriber_emails("1.0.0") == []
    assert open_site.client().get(path).status_code == 404


def test_refusals(open_site: WebProject, inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = _subscribe(open_site, "not an address")
    assert bad.status_code == 400 and "does not look like" in bad.text
    assert open_site.client().get("/releases/9.9.9/notify").status_code == 404
    assert open_site.client().get("/notify/confirm/" + "A" * 43).status_code == 404
    # a link confirmed too late is refused
    assert _subscribe(open_site, "late@example.net").status_code == 303
    path = _confirm_link(inbox.wait_for(1)[0])
    from datasteward.web import corrections

    later = corrections._now() + timedelta(hours=corrections.CONFIRM_HOURS + 1)
    monkeypatch.setattr(corrections, "_now", lambda: later)
    late = _press(open_site, path, "confirm")
    assert late.status_code == 410
    with open_site.ledger() as ledger:
        assert ledger.subscriber_emails("1.0.0") == []


def test_without_a_mail_server_the_form_says_so(sqlite_site: WebProject) -> None:
    form = sqlite_site.client().get("/releases/1.0.0/notify")
    assert form.status_code == 200 and 'name="email"' not in form.text
    r = _subscribe(sqlite_site, "reader@example.net", form="/login")
    assert r.status_code == 503 and "cannot send e-mail" in r.text


def test_open_downloads_are_not_recorded(open_site: WebProject) -> None:
    from datasteward.release.format.manifest import read_manifest

    data = next(f for f in read_manifest(open_site.project / "releases/1.0.0").files
                if f.role == "data")  # fmt: skip
    assert open_site.client().get(f"/releases/1.0.0/files/{data.path}").status_code == 200
    with open_site.ledger() as ledger:
        assert ledger.downloads() == []
        assert "access.download" not in [e.type for e in ledger.events(limit=1000)]


@pytest.mark.slow
def test_confirmed_subscribers_are_told_once_when_a_patch_supersedes(
    open_site: WebProject, inbox: Inbox
) -> None:
    assert _subscribe(open_site, "ada@example.net").status_code == 303
    assert _subscribe(open_site, "bob@example.net").status_code == 303  # never confirms
    mails = inbox.wait_for(2)
    ada = next(m for m in mails if m["To"] == "ada@example.net")
    assert _press(open_site, _confirm_link(ada), "confirm").status_code == 200
    takedown_executed(open_site, inbox, released_urls(open_site.project)[3])
    msgs = inbox.wait_for(5)
    told = [m for m in msgs if "was corrected" in str(m["Subject"])]
    assert [m["To"] for m in told] == ["ada@example.net"]
    assert f"{BASE}/releases/1.0.1" in body(told[0])
    with open_site.ledger() as ledger:
        notices = [(n["kind"], n["email"], n["version"]) for n in ledger.list_notices()]
        assert ledger.subscriber_emails("1.0.0") == []  # told once, then deleted
        assert ledger.verify().ok
    assert ("subscriber", "ada@example.net", "1.0.0") in notices
    assert not any(n[1] == "bob@example.net" for n in notices)
