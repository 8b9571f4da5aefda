"""Helpers of the site's tests: start the app over a project, log in, fetch CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from datasteward.ledger import Ledger
from datasteward.web.app import create_app
from datasteward.web.passwords import hash_password
from datasteward.web.settings import WebSettings

PASSWORD = "correct horse battery staple"
ROLES_ALL = ("anonymous", "viewer", "reviewer", "maintainer")
SECRET = b"test-secret-" + b"x" * 40
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class WebProject:
    project: Path
    ledger_url: str | None
    app: Litestar
    clients: list[TestClient[Litestar]] = field(default_factory=list)

    @classmethod
    @contextmanager
    def start(
        cls, project: Path, *, ledger_url: str | None, **settings: Any
    ) -> Iterator[WebProject]:
        throttles = settings.pop("throttles", None)
        with Ledger.open(project, ledger_url) as ledger:
            access = ledger
            hashed = hash_password(PASSWORD)
            for role in ROLES_ALL[1:]:
                if access.account(role) is None:
                    access.add_account(role, role=role, password_hash=hashed)
        app = create_app(
            WebSettings(
                project=project, secret=SECRET, ledger_url=ledger_url, dev=True, **settings
            ),
            throttles=throttles,
        )
        wp = cls(project, ledger_url, app)
        try:
            yield wp
        finally:
            app.state.site.close()

    def client(self, role: str = "anonymous") -> TestClient[Litestar]:
        """A client (entered), logged in as the account named after ``role``."""
        # not entered: the lifespan (startup/shutdown) runs once, in start(), not per client
        c: TestClient[Litestar] = TestClient(self.app, base_url="http://127.0.0.1")
        self.clients.append(c)
        if role != "anonymous":
            login(c, role, PASSWORD)
        return c

    def ledger(self) -> Ledger:
        return Ledger.open(self.project, self.ledger_url)


def csrf(client: TestClient[Litestar], path: str = "/login") -> str:
    """The CSRF token of a form page (the cookie is set by the same response)."""
    page = client.get(path)
    m = _CSRF.search(page.text)
    assert m, f"no CSRF field on {path} ({page.status_code})"
    return m.group(1)


def login(client: TestClient[Litestar], name: str, password: str) -> Any:
    token = csrf(client)
    r = client.post(
        "/login",
        data={"name": name, "password": password, "_csrf_token": token, "next": "/manage"},
        follow_redirects=False,
    )
    return r


def request_access(wp: WebProject, name: str, version: str = "1.0.0") -> str:
    """File an access request to a gated release as an anonymous person (``name``, e-mail
    ``name@example.org``, terms accepted); returns their private status URL."""
    c = wp.client()
    path = f"/releases/{version}/access"
    r = c.post(
        path,
        data={"name": name, "affiliation": "Uni", "email": f"{name.lower()}@example.org",
              "intended_use": "Evaluating a toxicity filter.", "accept_terms": "yes",
              "_csrf_token": csrf(c, path)},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def decide_access(wp: WebProject, request_id: int, decision: str, reason: str = "") -> Any:
    """A maintainer's ``approve`` or ``deny`` of access request ``request_id``; the response."""
    m = wp.client("maintainer")
    return m.post(
        f"/manage/access/{request_id}/decide",
        data={"decision": decision, "reason": reason, "_csrf_token": csrf(m, "/manage/access")},
        follow_redirects=False,
    )
