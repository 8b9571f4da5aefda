"""Who is asking: sessions, roles, the role guard, and the login / logout pages.

Every route handler declares the weakest role that may use it in its ``opt``::

    @get("/manage/access", opt={"role": "maintainer"})

``anonymous`` is public; ``viewer`` < ``reviewer`` < ``maintainer``. The app-wide guard
(:func:`role_guard`) reads it on every request: no session → 401, a weaker role → 403. The app
factory refuses to start if any handler has no ``role`` (nothing is public by accident).

The session is kept on the server (:mod:`datasteward.web.sessions`: a store all workers share;
the cookie only names it, signed, HttpOnly, SameSite, ``Secure`` outside ``--dev``). It holds
the account name and when that account was added; the account is read from the ledger on each
request, so removing an account ends its sessions on their next request (they are deleted),
and an account given back under the same name does not inherit them. Logging out deletes the
session on the server, so a copied cookie stops working too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from datasteward.ledger.web_access import ROLES, Account
from datasteward.web.passwords import check_password
from datasteward.web.site import Site, SiteDep

log = logging.getLogger(__name__)

#: Every role, weakest first.
ALL_ROLES = ("anonymous", *ROLES)


def rank(role: str) -> int:
    return ALL_ROLES.index(role)


def current_account(connection: ASGIConnection[Any, Any, Any, Any]) -> Account | None:
    """The logged-in account of this request (cached on the request), or None."""
    state = connection.scope.setdefault("state", {})
    if "account" in state:
        return state["account"]  # type: ignore[no-any-return]
    account = None
    raw = connection.scope.get("session")
    session: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = session.get("user")
    if isinstance(name, str):
        site: Site = connection.app.state.site
        account = site.access.account(name)
        if account is None or account.added_at != session.get("since"):
            # removed (or removed and given back: another person): this session is over
            account = None
            connection.clear_session()
    state["account"] = account
    return account


async def role_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The app-wide guard: the handler's ``opt["role"]`` against the session's account.
    (Async, so a public page costs no thread hop; the account is read in a thread.)"""
    needed = handler.opt.get("role")
    if needed == "anonymous" or (needed is None and connection.scope.get("method") == "OPTIONS"):
        return  # public, or Litestar's automatic OPTIONS handler (no content)
    if needed not in ROLES:
        raise PermissionDeniedException("this page declares no role")  # the factory forbids it
    account = await anyio.to_thread.run_sync(current_account, connection)
    if account is None:
        raise NotAuthorizedException("log in to see this page")
    if rank(account.role) < rank(needed):
        raise PermissionDeniedException(f"this page needs the {needed} role")


def _safe_next(target: str | None) -> str:
    """Only a local path (never another site: no scheme, no host, no ``//``)."""
    if not target:
        return "/manage"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/manage"
    if "\\" in target:
        return "/manage"
    return target


@get("/login", opt={"role": "anonymous"}, name="login", sync_to_thread=False)
def login_form(next: FromQuery[str | None] = None) -> Template:
    return Template("login.html", context={"next": _safe_next(next), "error": None})


@post(
    "/login",
    opt={"role": "anonymous", "throttle": "login"},
    sync_to_thread=True,
    status_code=303,
)
def login(
    request: Request[Any, Any, Any],
    site: SiteDep,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Check the password; lock the account after repeated failures."""
    name = str(data.get("name", ""))[:128]
    password = str(data.get("password", ""))[:1024]
    target = _safe_next(data.get("next"))
    access = site.access
    account = access.account(name) if name else None
    creds = access.credentials(name) if account is not None else None
    now = datetime.now(UTC)
    locked = (
        creds is not None
        and creds.locked_until is not None
        and (creds.locked_until > now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    )
    ok, new_hash = check_password(creds.password_hash if creds else None, password)
    if locked:
        log.warning("login refused: account %r is locked", name)
        return _login_failed(
            target,
            "This account is locked after repeated failed logins; try again later.",
            status=403,
        )
    if not ok or account is None:
        if creds is not None:
            access.login_failed(
                name,
                lock_after=site.settings.lockout_after,
                lock_for=timedelta(minutes=site.settings.lockout_minutes),
            )
        return _login_failed(target, "Wrong name or password.", status=401)
    access.login_succeeded(name, new_hash=new_hash)
    request.clear_session()
    request.set_session({"user": account.name, "since": account.added_at, "at": now.isoformat()})
    return Redirect(target, status_code=303)


def _login_failed(target: str, message: str, *, status: int) -> Response[Any]:
    return Template("login.html", context={"next": target, "error": message}, status_code=status)


@post("/logout", opt={"role": "anonymous"}, sync_to_thread=False, status_code=303)
def logout(request: Request[Any, Any, Any]) -> Redirect:
    """End the session: deleted on the server, so a copy of the cookie opens nothing."""
    request.clear_session()
    return Redirect("/", status_code=303)


ROUTES = [login_form, login, logout]
