"""The site's core on real data: public pages, login, sessions, headers, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_kit import PASSWORD, WebProject, csrf, login

from datasteward.errors import WebError


def test_public_pages_of_a_release(site: WebProject) -> None:
    c = site.client()
    home = c.get("/")
    assert home.status_code == 200
    assert "site-test" in home.text and "/releases/1.0.0" in home.text
    page = c.get("/releases/1.0.0")
    assert page.status_code == 200
    for doc in ("Datasheet", "Dataset card", "Changelog", "Notice"):
        assert f"<h2>{doc}</h2>" in page.text
    assert '<script type="application/ld+json">' in page.text
    status = c.get("/status.json").json()
    assert status["current"] == "1.0.0"
    assert status["releases"][0]["status"] == "current"


def test_login_logout_and_session_cookie(site: WebProject) -> None:
    c = site.client()
    assert c.get("/manage").status_code == 401
    r = login(c, "viewer", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/manage"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("ds_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")
    assert c.get("/manage").status_code == 200
    token = csrf(c, "/manage")
    out = c.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert c.get("/manage").status_code == 401


def test_wrong_password_is_refused(site: WebProject) -> None:
    c = site.client()
    r = login(c, "viewer", "not the password")
    assert r.status_code == 401 and "Wrong name or password" in r.text
    assert login(c, "nobody", PASSWORD).status_code == 401


def test_no_secret_no_site(monkeypatch: pytest.MonkeyPatch) -> None:
    from datasteward.web.settings import SECRET_ENV, secret_from_env

    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(WebError, match="DATASTEWARD_WEB_SECRET is not set"):
        secret_from_env(dev=False)
    secret, generated = secret_from_env(dev=True)
    assert generated and len(secret) >= 32
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(WebError, match="at least 32"):
        secret_from_env(dev=False)


def test_every_route_declares_a_role(project: Path) -> None:
    from litestar import get

    from datasteward.web import app as app_module
    from datasteward.web.settings import WebSettings

    @get("/undeclared", sync_to_thread=False)
    def undeclared() -> str:
        return "oops"

    class Module:
        ROUTES = [undeclared]

    import sys

    sys.modules["_undeclared_routes"] = Module  # type: ignore[assignment]
    monkey = [*app_module.ROUTE_MODULES, "_undeclared_routes"]
    saved = app_module.ROUTE_MODULES
    app_module.ROUTE_MODULES = monkey
    try:
        with pytest.raises(WebError, match="/undeclared.*declares no valid role"):
            app_module.create_app(WebSettings(project=project, secret=b"s" * 40, dev=True))
    finally:
        app_module.ROUTE_MODULES = saved
        del sys.modules["_undeclared_routes"]


def test_the_audit_summary_is_shown_only_when_published(project: Path) -> None:
    from datasteward.project import Project

    Project.open(project).audit()  # into runs/<run>/audit/, where the release page looks
    with WebProject.start(project, ledger_url=None) as wp:
        assert "Audit summary" not in wp.client().get("/releases/1.0.0").text
    recipe = project / "datasteward.toml"
    recipe.write_text(recipe.read_text("utf-8") + "\n[release]\npublish_audit = true\n", "utf-8")
    with WebProject.start(project, ledger_url=None) as wp:
        page = wp.client().get("/releases/1.0.0").text
    assert "<h2>Audit summary</h2>" in page
    import json

    run_dir = next((project / "runs").iterdir())
    audit = json.loads((run_dir / "audit" / "audit.json").read_text("utf-8"))
    step = audit["funnel"][0]
    assert f"<td>{step['step_id']}</td>" in page
    assert f"<td>{step['removed']:,}</td>" in page
    for reason in step["reasons"]:
        assert reason in page


def test_gated_needs_terms_in_the_recipe(project: Path) -> None:
    from datasteward.errors import RecipeError
    from datasteward.recipe import load_recipe

    recipe = project / "datasteward.toml"
    recipe.write_text(recipe.read_text("utf-8") + '\n[release]\naccess = "gated"\n', "utf-8")
    with pytest.raises(RecipeError, match="needs `terms`"):
        load_recipe(project)
    recipe.write_text(recipe.read_text("utf-8").replace('"gated"', '"closed"'), "utf-8")
    with pytest.raises(RecipeError, match="must be one of 'open', 'gated'"):
        load_recipe(project)


def test_a_logged_in_steward_sees_the_public_pages_fresh(sqlite_site: WebProject) -> None:
    page = sqlite_site.client("reviewer").get("/releases/1.0.0").text
    assert "reviewer (reviewer)" in page and "Log out" in page
    anon = sqlite_site.client().get("/releases/1.0.0").text
    assert "Steward login" in anon and "Log out" not in anon
