"""Sessions the server can revoke, and budgets every worker shares.

Sessions live in a store on the server (Litestar's server-side sessions over a FileStore in
the project's site state directory, shared by every worker of the deployment); the cookie only
names one, signed. Logging out deletes the session, so a copied cookie stops working; removing
an account ends its sessions on their next request. The rate limits (login, takedown form,
access requests) count in the same shared store, so two workers allow one budget, not two.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_kit import PASSWORD, WebProject, csrf, login

from datasteward.web.passwords import hash_password


def _session_cookie(response: Any) -> str:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("ds_session="))
    return header.split(";", 1)[0].split("=", 1)[1]


def _with_cookie(wp: WebProject, value: str) -> Any:
    """A fresh client (another browser) that presents only this session cookie."""
    other = wp.client()
    other.cookies.set("ds_session", value, domain="127.0.0.1")
    return other


def test_a_copied_session_cookie_is_refused_after_logout(site: WebProject) -> None:
    c = site.client()
    r = login(c, "maintainer", PASSWORD)
    assert r.status_code == 303
    cookie = _session_cookie(r)
    header = next(h for h in r.headers.get_list("set-cookie") if h.startswith("ds_session="))
    assert "HttpOnly" in header and "samesite=lax" in header.lower() and "Path=/" in header
    thief = _with_cookie(site, cookie)
    assert thief.get("/manage").status_code == 200  # a copy works while the session lives
    out = c.post("/logout", data={"_csrf_token": csrf(c, "/manage")}, follow_redirects=False)
    assert out.status_code == 303
    assert c.get("/manage").status_code == 401
    # the copy made before logout no longer opens anything
    assert thief.get("/manage").status_code == 401
    assert thief.get("/manage/access").status_code == 401


def test_the_cookie_is_signed_and_names_only_a_session(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    cookie = _session_cookie(login(c, "maintainer", PASSWORD))
    assert "maintainer" not in cookie  # no account name or data in the cookie
    session_id, _, mac = cookie.rpartition(".")
    assert session_id and mac
    # another signature for the same session, or the bare id, is refused
    forged = f"{session_id}.{'A' * len(mac)}"
    assert _with_cookie(sqlite_site, forged).get("/manage").status_code == 401
    assert _with_cookie(sqlite_site, session_id).get("/manage").status_code == 401
    assert _with_cookie(sqlite_site, cookie).get("/manage").status_code == 200


def test_login_starts_a_new_session(sqlite_site: WebProject) -> None:
    """A session id known before login (fixed by an attacker) is not the one after it."""
    c = sqlite_site.client()
    first = _session_cookie(login(c, "viewer", PASSWORD))
    second = _session_cookie(login(c, "viewer", PASSWORD))
    assert first.rpartition(".")[0] != second.rpartition(".")[0]
    assert _with_cookie(sqlite_site, first).get("/manage").status_code == 401
    assert _with_cookie(sqlite_site, second).get("/manage").status_code == 200


def test_anonymous_pages_make_no_sessions(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    for path in ("/", "/releases/1.0.0", "/status.json", "/login"):
        r = c.get(path)
        assert r.status_code == 200
        assert not any(h.startswith("ds_session=") for h in r.headers.get_list("set-cookie"))
    sessions = sqlite_site.project / ".datasteward" / "site" / "sessions"
    assert not sessions.exists() or not any(sessions.iterdir())


def test_a_removed_account_is_logged_out_on_its_next_request(site: WebProject) -> None:
    c = site.client("reviewer")
    assert c.get("/manage").status_code == 200
    with site.ledger() as ledger:
        ledger.remove_account("reviewer")
    assert c.get("/manage").status_code == 401
    # given back under the same name (a new person, a new password): the old session stays dead
    with site.ledger() as ledger:
        ledger.add_account("reviewer", role="maintainer", password_hash=hash_password(PASSWORD))
    assert c.get("/manage").status_code == 401
    assert c.get("/manage/access").status_code == 401


def test_a_session_survives_into_another_worker(project: Path) -> None:
    """Two app instances over one project (two uvicorn workers): a login made on one is a
    session on the other; a logout on the other ends it on both."""
    with (
        WebProject.start(project, ledger_url=None) as one,
        WebProject.start(project, ledger_url=None) as two,
    ):
        a = one.client()
        cookie = _session_cookie(login(a, "maintainer", PASSWORD))
        b = _with_cookie(two, cookie)
        assert b.get("/manage/access").status_code == 200
        out = b.post("/logout", data={"_csrf_token": csrf(b, "/manage")}, follow_redirects=False)
        assert out.status_code == 303
        assert a.get("/manage").status_code == 401


def test_lockout_still_works_with_server_sessions(sqlite_site: WebProject) -> None:
    c = sqlite_site.client()
    for _ in range(5):
        assert login(c, "reviewer", "wrong password").status_code == 401
    locked = login(c, "reviewer", PASSWORD)
    assert locked.status_code == 403 and "locked" in locked.text
    assert not any(h.startswith("ds_session=") and "null" not in h
                   for h in locked.headers.get_list("set-cookie"))  # fmt: skip
    assert c.get("/manage").status_code == 401


# -- rate limits shared by the workers -------------------------------------------------------


def _post_login(client: Any, token: str) -> int:
    r = client.post("/login", data={"name": "nobody", "password": "guess",
                                    "_csrf_token": token})  # fmt: skip
    return int(r.status_code)


def test_two_workers_share_one_login_budget(project: Path) -> None:
    limits = {"login": ("minute", 6)}
    with (
        WebProject.start(project, ledger_url=None, throttles=limits) as one,
        WebProject.start(project, ledger_url=None, throttles=limits) as two,
    ):
        a, b = one.client(), two.client()
        ta, tb = csrf(a), csrf(b)
        codes = [_post_login(a if i % 2 == 0 else b, ta if i % 2 == 0 else tb) for i in range(12)]
    # the same client address on both workers: 6 answered in all, then 429 on either
    assert codes[:6] == [401] * 6, codes
    assert codes[6:] == [429] * 6, codes


def test_concurrent_floods_on_two_workers_stay_within_one_budget(project: Path) -> None:
    """40 login POSTs at once, half on each worker: no more than the budget is answered."""
    limits = {"login": ("minute", 8)}
    with (
        WebProject.start(project, ledger_url=None, throttles=limits) as one,
        WebProject.start(project, ledger_url=None, throttles=limits) as two,
    ):
        codes = asyncio.run(_flood([one, two], per_app=20))
    assert codes.count(401) == 8, sorted(codes)
    assert codes.count(429) == 32, sorted(codes)


async def _flood(apps: list[WebProject], *, per_app: int) -> list[int]:
    async def client(wp: WebProject) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=wp.app, client=("198.51.100.9", 5000))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    clients = [await client(wp) for wp in apps]
    try:
        tokens = []
        for c in clients:
            page = await c.get("/login")
            m = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
            assert m
            tokens.append(m.group(1))

        async def one(i: int) -> int:
            c, t = clients[i % len(clients)], tokens[i % len(clients)]
            r = await c.post("/login", data={"name": "nobody", "password": "guess",
                                             "_csrf_token": t})  # fmt: skip
            return r.status_code

        return list(await asyncio.gather(*(one(i) for i in range(per_app * len(clients)))))
    finally:
        for c in clients:
            await c.aclose()


@pytest.mark.parametrize("throttle", ["takedown", "access"])
def test_every_throttle_is_shared(project: Path, throttle: str) -> None:
    """The takedown form's and the access form's budgets are shared the same way."""
    from datasteward.web.app import THROTTLES

    assert throttle in THROTTLES
    recipe = project / "datasteward.toml"
    recipe.write_text(
        recipe.read_text("utf-8") + '\n[release]\naccess = "gated"\nterms = "Research use only."\n',
        "utf-8",
    )
    path = "/takedown" if throttle == "takedown" else "/releases/1.0.0/access"
    limits = {throttle: ("minute", 3)}
    with (
        WebProject.start(project, ledger_url=None, throttles=limits) as one,
        WebProject.start(project, ledger_url=None, throttles=limits) as two,
    ):
        clients = [one.client(), two.client()]
        tokens = [csrf(c, path) for c in clients]
        codes = [
            clients[i % 2].post(path, data={"_csrf_token": tokens[i % 2]}).status_code
            for i in range(6)
        ]
    assert all(code != 429 for code in codes[:3]), codes
    assert codes[3:] == [429] * 3, codes


def test_expired_sessions_are_swept_when_a_worker_starts(project: Path) -> None:
    from litestar.stores.base import StorageObject

    from datasteward.web.sessions import sweep_expired

    with WebProject.start(project, ledger_url=None) as wp:
        cookie = _session_cookie(login(wp.client(), "viewer", PASSWORD))
    folder = project / ".datasteward" / "site" / "sessions"
    (live,) = list(folder.iterdir())
    stale = folder / ("0" * 64)
    stale.write_bytes(StorageObject.new(b"{}", expires_in=-5).to_bytes())
    (folder.parent / "stray.txt").write_text("not a namespace", "utf-8")
    assert sweep_expired(folder.parent) == 1
    assert live.exists() and not stale.exists()
    with WebProject.start(project, ledger_url=None) as wp:  # a restart keeps the live session
        assert _with_cookie(wp, cookie).get("/manage").status_code == 200


def test_outside_dev_the_session_cookie_is_secure(project: Path) -> None:
    from litestar.testing import TestClient
    from web_kit import SECRET

    from datasteward.web.app import create_app
    from datasteward.web.settings import WebSettings

    with WebProject.start(project, ledger_url=None):
        pass  # the accounts
    app = create_app(WebSettings(project=project, secret=SECRET, dev=False))
    try:
        c: TestClient[Any] = TestClient(app, base_url="https://127.0.0.1")
        r = login(c, "maintainer", PASSWORD)
        assert r.status_code == 303
        header = next(h for h in r.headers.get_list("set-cookie") if h.startswith("ds_session="))
        assert "Secure" in header and "HttpOnly" in header
    finally:
        app.state.site.close()


def test_a_state_folder_that_cannot_be_written_is_refused_at_start(project: Path) -> None:
    """The store drops write errors silently (a login would seem to work and the next page
    say 401); the site refuses to start instead, naming the folder."""
    from datasteward.errors import WebError

    blocked = project / "datasteward.toml" / "site"  # under a file: no user can create it
    with pytest.raises(WebError, match="cannot write its state folder") as info:
        with WebProject.start(project, ledger_url=None, state_dir=blocked):
            pass
    assert str(blocked) in str(info.value)
