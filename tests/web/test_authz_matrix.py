"""The authorisation matrix: every route of the site × anonymous/viewer/reviewer/maintainer.

Built from the app itself: each handler's ``opt["role"]`` is the weakest role that may use it,
so every route a module registers (part A's and part B's alike) joins the matrix without
editing this file, except to give an example value for a new path parameter name in
EXAMPLE_PARAMS. Expected: a weaker role is refused (anonymous 401, a logged-in role 403); an
allowed role is never refused by the guard (any status but 401/403) and never crashes (< 500).
POSTs carry a valid CSRF token, so only the role decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_kit import PASSWORD, ROLES_ALL, WebProject, csrf, login

#: An example value for each path parameter name used by the site's routes.
EXAMPLE_PARAMS: dict[str, str] = {
    "version": "1.0.0",
    "path": "manifest.json",
    "token": "not-a-token",
    "request_id": "1",
    "sample_id": "1",
    "position": "0",
    "run_id": "none",
    "record_id": "none",
    "job_id": "1",
}
#: Routes whose allowed answer may legitimately be 403 for reasons other than the role
#: (none today): (method, path template).
SKIP: set[tuple[str, str]] = set()
_PARAM = re.compile(r"\{([a-zA-Z_]+)(?::[a-z]+)?\}")


def _routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path template, role) of every handler, except static files and Litestar's
    automatic OPTIONS handlers."""
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", ()))
            if methods == {"OPTIONS"} or getattr(handler, "is_static", False):
                continue
            if route.path.startswith("/static"):
                continue
            for method in sorted(methods - {"HEAD", "OPTIONS"}):
                out.append((method, route.path, handler.opt["role"]))
    return sorted(set(out), key=lambda r: (r[1], r[0]))


def _fill(template: str) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        assert name in EXAMPLE_PARAMS, (
            f"path parameter {{{name}}} of {template} has no example: add it to EXAMPLE_PARAMS"
        )
        return EXAMPLE_PARAMS[name]

    return _PARAM.sub(value, template)


def _rank(role: str) -> int:
    return ROLES_ALL.index(role)


@pytest.fixture
def matrix_site(project: Path) -> Iterator[WebProject]:
    """The site with throttles wide open (the matrix logs in again and again)."""
    from datasteward.web.app import THROTTLES

    wide = {name: ("minute", 100_000) for name in THROTTLES}
    with WebProject.start(project, ledger_url=None, throttles=wide) as wp:
        yield wp


def _refused_by_guard(r: Any) -> bool:
    return r.status_code in (401, 403) and (
        "log in to see this page" in r.text or "this page needs the" in r.text
    )


def test_every_route_for_every_role(matrix_site: WebProject) -> None:
    routes = _routes(matrix_site.app)
    assert len(routes) >= 8, routes
    clients = {role: matrix_site.client(role) for role in ROLES_ALL}
    tokens = {role: csrf(c, "/login") for role, c in clients.items()}
    matrix: list[tuple[str, str, str, int, str]] = []
    wrong = []
    for method, template, needed in routes:
        if (method, template) in SKIP:
            continue
        path = _fill(template)
        for role, client in clients.items():
            if method == "GET":
                r = client.get(path, follow_redirects=False)
            else:
                r = client.request(
                    method, path, data={"_csrf_token": tokens[role]}, follow_redirects=False
                )
            allowed = _rank(role) >= _rank(needed)
            if allowed:
                expected = "allowed"
                # 503: a stage not configured (e.g. no SMTP for the takedown form), not a crash
                ok = not _refused_by_guard(r) and r.status_code in (*range(200, 500), 503)
            else:
                expected = "401" if role == "anonymous" else "403"
                ok = str(r.status_code) == expected and _refused_by_guard(r)
            matrix.append((method, template, role, r.status_code, expected))
            if method == "POST" and template in ("/login", "/logout") and role != "anonymous":
                login(client, role, PASSWORD)  # the POST ended (or replaced) the session
            if not ok:
                wrong.append(f"{method} {path} as {role}: {r.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    # the matrix covers every role on every route
    assert len(matrix) == 4 * len([r for r in routes if (r[0], r[1]) not in SKIP])
    needed_roles = {r[2] for r in routes}
    assert {"anonymous", "maintainer"} <= needed_roles


def test_the_matrix_has_public_and_protected_routes(sqlite_site: WebProject) -> None:
    routes = {(m, p): role for m, p, role in _routes(sqlite_site.app)}
    assert routes[("GET", "/")] == "anonymous"
    assert routes[("GET", "/status.json")] == "anonymous"
    assert routes[("GET", "/manage/access")] == "maintainer"
    assert routes[("POST", "/manage/access/{request_id:int}/decide")] == "maintainer"
    # part D: "notify me of corrections" is public (the e-mailed link is the credential)
    for method, path in [("GET", "/releases/{version:str}/notify"),
                         ("POST", "/releases/{version:str}/notify"),
                         ("GET", "/notify/confirm/{token:str}"),
                         ("POST", "/notify/confirm/{token:str}")]:  # fmt: skip
        assert routes[(method, path)] == "anonymous", (method, path)


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_a_weaker_role_cannot_decide_access(sqlite_site: WebProject, role: str) -> None:
    c = sqlite_site.client(role)
    r = c.post(
        "/manage/access/1/decide",
        data={"_csrf_token": csrf(c, "/manage"), "decision": "approve"},
        follow_redirects=False,
    )
    assert r.status_code == 403
