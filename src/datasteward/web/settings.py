"""What the site needs to run: the project, the ledger, the secret, the limits.

Secrets come from the environment only, never from the project or the ledger:
``DATASTEWARD_WEB_SECRET`` (at least 32 characters; e.g. ``python -c "import secrets;
print(secrets.token_urlsafe(48))"``) signs the session cookies, the CSRF tokens and the
download links. ``serve --dev`` generates one for the process (and says so), so sessions and
links die with it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from datasteward.errors import WebError

log = logging.getLogger(__name__)

SECRET_ENV = "DATASTEWARD_WEB_SECRET"
#: Set by ``serve --dev`` for the worker processes it starts (they share the generated secret).
DEV_ENV = "DATASTEWARD_WEB_DEV"
PROJECT_ENV = "DATASTEWARD_WEB_PROJECT"
MIN_SECRET_CHARS = 32


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """Options of the site (``create_app(settings)``)."""

    #: The project folder (its recipe, releases and, by default, its SQLite ledger).
    project: Path
    #: The master secret; per-purpose keys are derived from it (:meth:`key`).
    secret: bytes = field(repr=False)
    #: Another ledger database than the project's SQLite file (e.g. PostgreSQL).
    ledger_url: str | None = None
    #: Development mode: a generated secret, cookies without the ``Secure`` flag.
    dev: bool = False
    #: Largest request body accepted, in bytes (forms and uploads).
    max_body_bytes: int = 10 * 1024 * 1024
    #: Login attempts per client address per minute before 429.
    login_per_minute: int = 10
    #: Failed logins in a row that lock an account, and for how long.
    lockout_after: int = 5
    lockout_minutes: int = 15
    #: How long a signed download link stays valid.
    link_hours: int = 24
    #: How long a login session lasts (from the login, whatever the activity).
    session_hours: int = 12
    #: Where the workers of one deployment keep their shared state (sessions, rate-limit
    #: budgets); default ``<project>/.datasteward/site``. Every worker must see the same
    #: folder: a local disk of the one machine that runs them.
    state_dir: Path | None = None

    def key(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (``session``, ``csrf``, ``download``...)."""
        return hmac.new(
            self.secret, b"datasteward.web/" + purpose.encode(), hashlib.sha256
        ).digest()

    @property
    def site_state_dir(self) -> Path:
        """:attr:`state_dir`, or its default under the project."""
        return self.state_dir or self.project / ".datasteward" / "site"

    @property
    def secure_cookies(self) -> bool:
        return not self.dev


def secret_from_env(*, dev: bool) -> tuple[bytes, bool]:
    """The site secret from ``$DATASTEWARD_WEB_SECRET``; with ``dev`` and no secret set, a
    random one for this process. Returns (secret, generated)."""
    raw = os.environ.get(SECRET_ENV, "")
    if raw:
        if len(raw) < MIN_SECRET_CHARS:
            raise WebError(
                f"${SECRET_ENV} is {len(raw)} characters; the site needs at least "
                f"{MIN_SECRET_CHARS}",
                hint='generate one: python -c "import secrets; print(secrets.token_urlsafe(48))"',
            )
        return raw.encode("utf-8"), False
    if dev:
        return secrets.token_urlsafe(48).encode("ascii"), True
    raise WebError(
        f"${SECRET_ENV} is not set: the site signs sessions, CSRF tokens and download links "
        "with it",
        hint=f"export {SECRET_ENV}=\"$(python -c 'import secrets; "
        "print(secrets.token_urlsafe(48))')\" (keep it out of the project and the ledger), "
        "or use `serve --dev` to try the site with a throwaway secret",
    )
