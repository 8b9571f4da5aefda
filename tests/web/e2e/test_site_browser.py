"""The stewardship site end to end in a real browser (Playwright driving Debian's Chromium,
as the audit report's browser test does; skipped when either is absent), against a real
uvicorn server and a real SMTP server on 127.0.0.1. Screenshots go to test-artifacts/web/.

1. A person files a takedown for one article, confirms it from the e-mail the SMTP server
   received; a maintainer logs in, previews, approves; the public page then shows patch
   release 1.0.1 and the requester's status page says executed.
2. A reviewer reviews ten samples with the keyboard only, a second reviewer too, and the
   agreement appears; hostile record text on the review pages never executes.
3. A gated download: request, approval, download, and the file's sha256 equals the
   manifest's; a denied person gets 403.
"""

from __future__ import annotations

import hashlib
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from takedown_kit import (  # noqa: E402
    REPO,
    Inbox,
    add_sample,
    body,
    build_hostile_project,
    released_urls,
    smtp_server,
)

pytest.importorskip("litestar", reason="the site needs the web extra")
pytest.importorskip("aiosmtpd", reason="pip install 'datasteward[dev]'")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTEFACTS = REPO / "test-artifacts" / "web"
PASSWORD = "correct horse battery staple"
TERMS = "Research use only. Do not redistribute."
pytestmark = pytest.mark.slow


@dataclass
class Server:
    url: str
    project: Path
    inbox: Inbox
    sample_id: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo-like project (C4 pages and hostile records, release 1.0.0, gated, a review
    sample) served by uvicorn on 127.0.0.1, e-mail to a local SMTP server."""
    import os

    import uvicorn

    from datasteward.ledger import LEDGER_URL_ENV, Ledger
    from datasteward.release.build.make import make_release
    from datasteward.web.app import create_app
    from datasteward.web.passwords import hash_password
    from datasteward.web.settings import WebSettings

    if os.environ.get(LEDGER_URL_ENV):
        pytest.skip("the browser tests use the project's own SQLite ledger")
    project = build_hostile_project(tmp_path_factory.mktemp("e2e") / "proj", records=60)
    make_release(project, "1.0.0", draft=True)
    sid = add_sample(project, items=10, hostile=True)
    with Ledger.open(project) as ledger:
        access = ledger
        hashed = hash_password(PASSWORD)
        for name, role in (("rita", "reviewer"), ("remy", "reviewer"), ("maya", "maintainer")):
            access.add_account(name, role=role, password_hash=hashed)
    port = _free_port()
    with smtp_server() as inbox:
        recipe = project / "datasteward.toml"
        recipe.write_text(
            recipe.read_text("utf-8")
            + f'\n[release]\naccess = "gated"\nterms = "{TERMS}"\n'
            + f'\n[web]\nsmtp_url = "{inbox.url}"\nbase_url = "http://127.0.0.1:{port}"\n',
            "utf-8",
        )
        app = create_app(WebSettings(project=project, secret=b"e2e-" + b"s" * 40, dev=True))
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        uv = uvicorn.Server(config)
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not uv.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert uv.started, "uvicorn did not start in 20 s"
        try:
            yield Server(f"http://127.0.0.1:{port}", project, inbox, sid)
        finally:
            uv.should_exit = True
            thread.join(15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/ci-chromium.sh to install it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Watch:
    """Console errors and dialogs of a page (an alert() from a record would be one)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def real_errors(self) -> list[str]:
        # a 4xx the test provokes on purpose is logged by Chromium as a failed resource
        return [e for e in self.errors if "status of 40" not in e and "favicon" not in e]


def _page(browser: Any) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    return context, page, Watch(page)


def _login(page: Any, server: Server, name: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/manage")


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def test_1_takedown_filed_confirmed_approved_executed(browser: Any, server: Server) -> None:
    url = released_urls(server.project)[7]
    before = len(server.inbox.messages)
    ctx, person, watch = _page(browser)
    person.goto(f"{server.url}/takedown")
    person.check("input[name=kind][value=url]")
    person.fill("textarea[name=value]", url)
    person.select_option("select[name=category]", "copyright")
    person.fill("textarea[name=explanation]", "This article gives my home address.")
    person.fill("input[name=email]", "author@example.net")
    _shot(person, "1-takedown-form")
    person.click("#takedown-form button[type=submit]")
    person.wait_for_selector("#sent")
    (mail,) = server.inbox.wait_for(before + 1)[before:]
    found = re.findall(r"(http://127\.0\.0\.1:\d+/takedown/(confirm|status)/\S+)", body(mail))
    links = {kind: link for link, kind in found}
    person.goto(links["confirm"])
    person.click("#confirm")
    person.wait_for_selector("#confirmed")
    person.goto(links["status"])
    assert person.inner_text("#status") == "matched"
    assert "1 record in release 1.0.0 (1)" in person.inner_text("ol.stages")
    _shot(person, "1-status-matched")

    _, steward, swatch = _page(browser)
    _login(steward, server, "maya")
    steward.goto(f"{server.url}/manage/takedowns")
    steward.click("#requests a")
    assert url in steward.inner_text("#preview")
    _shot(steward, "1-triage-preview")
    steward.click("#approve")
    steward.wait_for_selector('#job[data-state="done"]', timeout=90_000)
    _shot(steward, "1-triage-executed")

    person.goto(server.url + "/")
    assert "1.0.1" in person.inner_text("main")
    _shot(person, "1-public-1.0.1")
    person.goto(links["status"])
    assert person.inner_text("#status") == "executed"
    assert "1.0.0 is replaced by 1.0.1" in person.inner_text("ol.stages")
    _shot(person, "1-status-executed")
    assert watch.real_errors() == [] and swatch.real_errors() == []
    ctx.close()


def _review_all(browser: Any, server: Server, name: str, labels: list[str]) -> list[Any]:
    ctx, page, watch = _page(browser)
    _login(page, server, name)
    sid = server.sample_id
    page.goto(f"{server.url}/review/{sid}")
    page.wait_for_url(f"{server.url}/review/{sid}/0")
    # j / k move without judging
    page.keyboard.press("j")
    page.wait_for_url(f"{server.url}/review/{sid}/1")
    page.keyboard.press("k")
    page.wait_for_url(f"{server.url}/review/{sid}/0")
    flags = []
    for pos, label in enumerate(labels):
        page.wait_for_url(f"{server.url}/review/{sid}/{pos}")
        page.wait_for_load_state("load")
        flags.append(page.evaluate("window.__pwned"))
        if pos == 0:
            _shot(page, f"2-review-{name}-hostile")
            page.keyboard.press("n")
            page.keyboard.type("markup in the text")
            page.keyboard.press("Escape")
        page.keyboard.press(label)
    page.wait_for_url(f"{server.url}/review/{sid}/agreement")
    _shot(page, f"2-agreement-after-{name}")
    text = page.inner_text("#agreement")
    assert watch.dialogs == [] and watch.real_errors() == [], watch.errors
    ctx.close()
    return [flags, text]


def test_2_two_reviewers_keyboard_only_and_agreement(browser: Any, server: Server) -> None:
    first, _ = _review_all(browser, server, "rita", ["1"] * 6 + ["5"] * 4)
    second, table = _review_all(browser, server, "remy", ["1"] * 5 + ["5"] * 5)
    assert first == [None] * 10 and second == [None] * 10  # no injected script ran
    row = next(line for line in table.splitlines() if line.startswith("all"))
    assert "0.800" in row and "0.808" in row  # Cohen's kappa, Krippendorff's alpha
    from datasteward.ledger import Ledger

    with Ledger.open(server.project) as ledger:
        judged = ledger.sample_judgements(server.sample_id)
    assert len(judged) == 20
    assert [j["note"] for j in judged if j["position"] == 0] == ["markup in the text"] * 2


def test_3_gated_download_and_a_denied_person(browser: Any, server: Server) -> None:
    from datasteward.release.format.manifest import read_manifest

    ctx, page, watch = _page(browser)
    version = page.request.get(f"{server.url}/status.json").json()["current"]
    page.goto(f"{server.url}/releases/{version}/access")
    page.fill("input[name=name]", "Ada Lovelace")
    page.fill("input[name=affiliation]", "Analytical Engines Ltd")
    page.fill("input[name=email]", "ada@example.org")
    page.fill("textarea[name=intended_use]", "Evaluating a toxicity filter.")
    page.check("input[name=accept_terms]")
    _shot(page, "3-access-request")
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")
    ada_status = page.url
    assert "pending" in page.inner_text("main")

    eve_ctx, eve, _ = _page(browser)
    eve.goto(f"{server.url}/releases/{version}/access")
    eve.fill("input[name=name]", "Eve")
    eve.fill("input[name=affiliation]", "Data Brokers Inc")
    eve.fill("input[name=email]", "eve@example.org")
    eve.fill("textarea[name=intended_use]", "Resale.")
    eve.check("input[name=accept_terms]")
    eve.click("form button[type=submit]")
    eve.wait_for_load_state("load")
    eve_status = eve.url

    _, steward, _ = _page(browser)
    _login(steward, server, "maya")
    steward.goto(f"{server.url}/manage/access")
    ada = steward.locator("article.request", has_text="Ada Lovelace")
    ada.locator("button[value=approve]").click()
    steward.wait_for_load_state("load")
    steward.goto(f"{server.url}/manage/access")
    eve_form = steward.locator("article.request", has_text="Data Brokers Inc")
    eve_form.locator("input[name=reason]").fill("Resale is not covered by the terms.")
    eve_form.locator("button[value=deny]").click()
    steward.wait_for_load_state("load")
    _shot(steward, "3-access-decided")

    page.goto(ada_status)
    _shot(page, "3-access-approved")
    hrefs = page.eval_on_selector_all("ul.downloads a", "els => els.map(e => e.href)")
    manifest = read_manifest(server.project / "releases" / version)
    every = {f.path: f.sha256 for f in manifest.files}
    data = {f.path: f.sha256 for f in manifest.files if f.role == "data"}
    linked = {h.split("/files/")[1].split("?")[0]: h for h in hrefs}
    assert data and set(data) <= set(linked)
    for path, href in sorted(linked.items()):
        got = page.request.get(href)
        assert got.status == 200, path
        assert hashlib.sha256(got.body()).hexdigest() == every[path], path

    eve.goto(eve_status)
    assert "denied" in eve.inner_text("main")
    assert eve.eval_on_selector_all("ul.downloads a", "els => els.length") == 0
    first = sorted(data)[0]
    refused = eve.request.get(f"{server.url}/releases/{version}/files/{first}")
    assert refused.status == 403
    eve.goto(f"{server.url}/releases/{version}/files/{first}")
    _shot(eve, "3-denied-403")
    assert watch.real_errors() == []
    ctx.close()
    eve_ctx.close()
