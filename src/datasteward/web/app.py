"""The stewardship site's application factory: ``create_app(settings) -> Litestar``.

Adding pages (the pattern every router module follows)
------------------------------------------------------
1. Write ``datasteward/web/<area>.py`` with plain Litestar handlers. Each handler declares the
   weakest role that may use it in ``opt`` — ``"anonymous"`` (public), ``"viewer"``,
   ``"reviewer"`` or ``"maintainer"`` — and may name a throttle (a rate limit per client
   address on its POSTs; see :data:`THROTTLES`)::

       from litestar import get, post
       from litestar.response import Template
       from litestar.params import FromPath
       from datasteward.web.site import SiteDep

       @get("/review/{sample_id:int}", opt={"role": "reviewer"}, sync_to_thread=True)
       def queue(site: SiteDep, sample_id: FromPath[int]) -> Template:
           # `site`: settings, ledger, project. Mark dependencies (SiteDep) and parameters
           # (FromPath, FromQuery) explicitly: Litestar 2.23+ warns about inferred ones, and
           # the tests turn warnings into errors.
           return Template("review/queue.html", context={...})

       @post("/takedown", opt={"role": "anonymous", "throttle": "takedown"}, ...)
       def file_request(...): ...

       ROUTES = [queue, file_request]               # what the factory registers

2. Templates go in ``web/templates/<area>/`` and extend ``base.html``
   (``{% extends "base.html" %}``, blocks ``title`` and ``content``). Autoescaping is on;
   every form includes ``{{ csrf_input }}`` (CSRF is checked on every POST); no inline
   ``<script>``/``style=``: the CSP forbids them, put JavaScript and CSS in ``web/static/``.
3. Register the module with one line in :data:`ROUTE_MODULES` below.
4. Add the routes to the authorisation matrix: ``tests/web/test_authz_matrix.py`` builds it
   from every registered handler's ``opt["role"]`` automatically; give example path
   parameters for your routes in its ``EXAMPLE_PARAMS`` (one line per parameter name).

The factory refuses to build an app in which any handler has no ``role``.

Everything the handlers share is :class:`~datasteward.web.site.Site` (the ``site``
dependency): the settings, the project (recipe, folders) and its ledger, opened once.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasteward.errors import WebError
from datasteward.web.settings import DEV_ENV, PROJECT_ENV, WebSettings, secret_from_env

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.middleware.rate_limit import DurationUnit
    from litestar.stores.base import Store

log = logging.getLogger(__name__)

#: Modules whose ``ROUTES`` list the factory registers, in this order.
ROUTE_MODULES: list[str] = [
    "datasteward.web.auth",
    "datasteward.web.public",
    "datasteward.web.downloads",
    "datasteward.web.manage",
    "datasteward.web.takedowns",  # part B: takedown form, confirmation, status page
    "datasteward.web.triage",
    "datasteward.web.review",
    "datasteward.web.stewardship",
    "datasteward.web.corrections",  # part D: "notify me of corrections" (double opt-in)
]

#: Rate limits per named throttle (per client address, POSTs only): (unit, requests).
THROTTLES: dict[str, tuple[DurationUnit, int]] = {
    "login": ("minute", 10),
    "takedown": ("minute", 5),
    "access": ("minute", 5),
    "notify": ("minute", 5),
}


def create_app(
    settings: WebSettings, *, throttles: dict[str, tuple[DurationUnit, int]] | None = None
) -> Litestar:
    """The site for ``settings.project`` (its ledger is opened on first use)."""
    from litestar import Litestar, Router
    from litestar.config.csrf import CSRFConfig
    from litestar.di import Provide
    from litestar.exceptions import HTTPException
    from litestar.plugins.jinja import JinjaTemplateEngine
    from litestar.static_files import create_static_files_router
    from litestar.template.config import TemplateConfig

    from datasteward.project import Project
    from datasteward.web.auth import role_guard
    from datasteward.web.pages import http_error
    from datasteward.web.public import cached_pages_first
    from datasteward.web.security import add_security_headers, throttle_configs, throttle_store
    from datasteward.web.sessions import SESSION_STORE, SignedSessionConfig, shared_store
    from datasteward.web.site import Site
    from datasteward.web.templating import STATIC, environment

    project = Project.open(settings.project, ledger_url=settings.ledger_url)
    site = Site(settings=settings, project=project)
    handlers: list[Any] = []
    for name in ROUTE_MODULES:
        handlers.extend(importlib.import_module(name).ROUTES)
    handlers.append(
        create_static_files_router(
            path="/static", directories=[STATIC], opt={"role": "anonymous"}, name="static"
        )
    )
    limits = dict(THROTTLES if throttles is None else throttles)
    # server-side sessions and rate-limit budgets in one store all workers share (sessions.py)
    shared = shared_store(settings.site_state_dir)
    stores: dict[str, Store] = {SESSION_STORE: shared.with_namespace("sessions")}
    stores.update({throttle_store(n): shared.with_namespace(f"throttle{n}") for n in limits})
    session = SignedSessionConfig(
        signing_key=settings.key("session"),
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        key="ds_session",
        store=SESSION_STORE,
    )
    csrf = CSRFConfig(
        secret=settings.key("csrf").hex(),
        cookie_name="ds_csrf",
        cookie_httponly=True,
        cookie_samesite="strict",
        cookie_secure=settings.secure_cookies,
    )

    def on_shutdown(app: Litestar) -> None:
        app.state.site.close()

    app = Litestar(
        # one Router for all: Litestar 2.25 registers handlers one by one and calls
        # on_registration again for a path's earlier handlers when a later one shares the path
        # (a sync GET beside a POST got wrapped twice and answered with a coroutine: a 500)
        route_handlers=[Router(path="/", route_handlers=handlers)],
        guards=[role_guard],
        dependencies={"site": Provide(lambda: site, use_cache=True, sync_to_thread=False)},
        middleware=[
            session.middleware,
            *(cfg.middleware for cfg in throttle_configs(limits)),
        ],
        before_send=[add_security_headers],
        csrf_config=csrf,
        stores=stores,
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment())),
        exception_handlers={HTTPException: http_error},
        request_max_body_size=settings.max_body_bytes,
        on_shutdown=[on_shutdown],
        openapi_config=None,
        debug=False,
    )
    app.state.site = site
    # anonymous GETs of cached, current public pages are answered before routing (public.py)
    app.asgi_handler = cached_pages_first(app.asgi_handler, site, session_cookie=session.key)
    _check_roles(app)
    return app


def _check_roles(app: Litestar) -> None:
    """Every handler declares its role (see the module docstring)."""
    from datasteward.web.auth import ALL_ROLES

    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if _automatic_options(handler):
                continue
            role = handler.opt.get("role")
            if role not in ALL_ROLES:
                raise WebError(
                    f"route {route.path} ({handler.handler_name}) declares no valid role "
                    f"(opt role={role!r})",
                    hint='add opt={"role": "anonymous"|"viewer"|"reviewer"|"maintainer"} '
                    "to its decorator",
                )


def _automatic_options(handler: Any) -> bool:
    """Litestar's own OPTIONS handler (made for every path; it returns no content)."""
    return set(getattr(handler, "http_methods", ())) == {"OPTIONS"} and (
        handler.handler_name == "options_handler"
    )


def settings_from_env() -> WebSettings:
    """Settings for a worker started by uvicorn (``serve --workers N``): the project and the
    options come from the environment that ``serve`` set."""
    project = os.environ.get(PROJECT_ENV)
    if not project:
        raise WebError(f"${PROJECT_ENV} is not set", hint="start the site with `datasteward serve`")
    dev = os.environ.get(DEV_ENV) == "1"
    secret, _ = secret_from_env(dev=dev)
    return WebSettings(project=Path(project), secret=secret, dev=dev)


def app_from_env() -> Litestar:
    """The uvicorn factory (``datasteward.web.app:app_from_env``)."""
    return create_app(settings_from_env())
