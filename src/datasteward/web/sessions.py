"""Server-side sessions and the store every worker of one deployment shares.

The store: Litestar's :class:`~litestar.stores.file.FileStore` under the site's state directory
(``<project>/.datasteward/site`` unless :attr:`WebSettings.state_dir` says otherwise). It is
process safe (each value is written to a temporary file and renamed into place), so the
uvicorn workers of one machine see the same sessions and count the same rate-limit budgets.
Sessions and rate-limit counters are not kept in the ledger: they change on every login and
every throttled POST, they expire, and nothing about them belongs in the append-only event
log (the same reason the password hashes are kept outside the chain).

The session cookie (``ds_session``) names a session, nothing more: 32 random bytes, signed
with the site's session key (``<id hex>.<HMAC-SHA256 base64url>``) so that whoever can write
into the state directory still cannot choose a session id a browser will present. The data
(the account name, when the login happened) stays on the server. So:

* logging out deletes the session in the store: a copied cookie opens nothing afterwards;
* a login always starts a new session id (no session fixation);
* pages that need no session make none (no file is written for an anonymous visitor);
* a session lasts ``session_hours`` from the login, whatever the activity (absolute expiry).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

from datasteward.errors import WebError

if TYPE_CHECKING:
    from pathlib import Path

    from litestar.connection import ASGIConnection
    from litestar.stores.file import FileStore
    from litestar.types import Message, ScopeSession

#: The name of the session store in the app's stores registry.
SESSION_STORE = "sessions"
#: Where the loaded session's serialised form is kept in the request scope (to write only
#: what changed).
_LOADED = "datasteward.session.loaded"


def shared_store(state_dir: Path) -> FileStore:
    """The store the workers share (its namespaces: ``sessions``, one per throttle)."""
    from litestar.stores.file import FileStore

    probe = state_dir / f".probe-{os.getpid()}"
    try:  # the store swallows write errors: a read-only folder would log nobody in, silently
        state_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise WebError(
            f"the site cannot write its state folder {state_dir}: {exc.strerror or exc}",
            hint="make it writable for the user that runs the site, or point "
            "WebSettings.state_dir at a writable local folder",
        ) from None
    sweep_expired(state_dir)
    return FileStore(state_dir, create_directories=True)


def sweep_expired(state_dir: Path) -> int:
    """Delete the expired entries of every namespace (a store deletes one only when it is
    read again: sessions nobody comes back to would stay). Run when a worker starts; returns
    how many were deleted."""
    from litestar.stores.base import StorageObject

    gone = 0
    for folder in (p for p in state_dir.iterdir() if p.is_dir()):
        for entry in folder.iterdir():
            try:
                expired = StorageObject.from_bytes(entry.read_bytes()).expired
            except (OSError, ValueError, TypeError):
                continue  # being replaced by another worker, or not an entry
            if expired:
                entry.unlink(missing_ok=True)
                gone += 1
    return gone


def _mac(key: bytes, session_id: str) -> str:
    digest = hmac.new(key, b"session-id:" + session_id.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class SignedSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend with a signed cookie, a new id at each login, and no
    session written for a request that has none."""

    config: SignedSessionConfig

    def cookie_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        """The session id the request's cookie names, if its signature holds."""
        raw = connection.cookies.get(self.config.key) or ""
        session_id, _, mac = raw.rpartition(".")
        if not session_id or len(session_id) > 128 or not session_id.isalnum():
            return None
        if not hmac.compare_digest(mac, _mac(self.config.signing_key, session_id)):
            return None
        return session_id

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        return (
            self.cookie_session_id(connection)
            or connection.get_session_id()
            or self.generate_session_id()
        )

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        session_id = self.cookie_session_id(connection)
        if session_id is None:
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        data = await self.get(session_id, store=store)
        if data is None:
            return {}
        connection.scope[_LOADED] = data  # type: ignore[literal-required]
        return self.deserialize_data(data)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        old = self.cookie_session_id(connection)
        cookie_params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        if scope_session is Empty or not scope_session:
            if old is not None:  # logout (or a session emptied): gone on the server too
                await self.delete(old, store=store)
            if connection.cookies.get(self.config.key):
                headers.add(
                    "Set-Cookie",
                    Cookie(value="null", key=self.config.key, expires=0, **cookie_params).to_header(
                        header=""
                    ),
                )
            return
        # cleared during this request (a login): a new id, and the old session is deleted
        current = connection.get_session_id()
        session_id = current if current else self.generate_session_id()
        if old is not None and old != session_id:
            await self.delete(old, store=store)
        data = self.serialize_data(scope_session, connection.scope)
        if session_id == old and connection.scope.get(_LOADED) == data:
            return  # nothing changed: the stored session keeps its expiry
        await self.set(session_id=session_id, data=data, store=store)
        if session_id != old:
            value = f"{session_id}.{_mac(self.config.signing_key, session_id)}"
            headers.add(
                "Set-Cookie",
                Cookie(value=value, key=self.config.key, **cookie_params).to_header(header=""),
            )


@dataclass
class SignedSessionConfig(ServerSideSessionConfig):
    """:class:`ServerSideSessionConfig` with the key that signs the cookie."""

    _backend_class = SignedSessionBackend

    #: The site's session key (:meth:`WebSettings.key`).
    signing_key: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.signing_key) < 32:
            raise WebError("the session signing key must be at least 32 bytes")
