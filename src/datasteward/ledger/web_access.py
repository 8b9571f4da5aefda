"""Ledger writes and reads for the stewardship site: accounts, logins, gated-download access.

* Accounts (``web_accounts``: name, role) are chained: adding or removing one is an event
  (``web.account.added`` / ``web.account.removed``), so who could approve what stays on record.
* Credentials (``web_credentials``: the argon2 hash, the failed-login counter, a lockout) are
  written outside the chain: they change on every login attempt, and a password hash must never
  be copied into the append-only event log.
* Access requests for gated releases (``access_requests``) and the downloads made with an
  approved request (``downloads``) are chained: ``access.requested`` (which records the
  acceptance of the terms: their sha256 and when), ``access.approved`` / ``access.denied``,
  ``access.download``.

``WebAccessRecords`` is mixed into :class:`~datasteward.ledger.Ledger`, so these are called as
``ledger.add_account(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from datasteward.errors import LedgerError
from datasteward.ledger.chain import format_ts
from datasteward.ledger.tables import access_requests, downloads, web_accounts, web_credentials

if TYPE_CHECKING:
    from datasteward.ledger._core import Transactions

#: Site roles, weakest first: each role may do what the ones before it may.
ROLES = ("viewer", "reviewer", "maintainer")
ACCESS_STATUSES = ("pending", "approved", "denied")


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    added_at: str


@dataclass(frozen=True)
class Credentials:
    name: str
    password_hash: str
    failed_logins: int
    #: ISO-8601 UTC time until which logins are refused, or None.
    locked_until: str | None


@dataclass(frozen=True)
class AccessRequest:
    request_id: int
    version: str
    name: str
    affiliation: str
    email: str
    intended_use: str
    terms_sha256: str
    terms_accepted_at: str
    status: str
    requested_at: str
    decided_by: str | None
    decided_at: str | None
    decision_reason: str | None


@dataclass(frozen=True)
class Download:
    download_id: int
    version: str
    path: str
    request_id: int | None
    at: str


def _request(row: Any) -> AccessRequest:
    return AccessRequest(
        **{k: row[k] for k in AccessRequest.__dataclass_fields__}  # noqa: SIM118
    )


class WebAccessRecords:
    """The site's records in the ledger (methods of ``Ledger``)."""

    # -- accounts ------------------------------------------------------------------------

    def add_account(self: Transactions, name: str, *, role: str, password_hash: str) -> Account:
        """Add an account (or give a removed one back, with a new password); refuses a name
        that is in use."""
        if not name or len(name) > 128 or any(c.isspace() or ord(c) < 32 for c in name):
            raise LedgerError(
                f"account name {name!r:.140} must be 1-128 characters without spaces",
                hint="e.g. `datasteward users add ana --role maintainer`",
            )
        if role not in ROLES:
            raise LedgerError(f"unknown site role {role!r}", hint="use one of: " + ", ".join(ROLES))
        with self._write("add a site account") as (changes, now):
            old = (
                changes.conn.execute(select(web_accounts).where(web_accounts.c.name == name))
                .mappings()
                .first()
            )
            if old is not None and old["removed_at"] is None:
                raise LedgerError(
                    f"there is already a site account {name!r} (role {old['role']})",
                    hint="remove it first (`datasteward users remove NAME`) or pick another name",
                )
            values = {"role": role, "added_at": now, "removed_at": None}
            if old is None:
                changes.put(web_accounts, {"name": name, **values})
            else:
                changes.change(web_accounts, {"name": name}, values)
            _put_credentials(changes.conn, name, password_hash, now)
            changes.commit_event("web.account.added", at=now)
        return Account(name=name, role=role, added_at=now)

    def remove_account(self: Transactions, name: str) -> None:
        with self._write("remove a site account") as (changes, now):
            old = (
                changes.conn.execute(select(web_accounts).where(web_accounts.c.name == name))
                .mappings()
                .first()
            )
            if old is None or old["removed_at"] is not None:
                raise LedgerError(
                    f"no site account {name!r}", hint="`datasteward users list` shows them"
                )
            changes.change(web_accounts, {"name": name}, {"removed_at": now})
            changes.conn.execute(delete(web_credentials).where(web_credentials.c.name == name))
            changes.commit_event("web.account.removed", at=now)

    def accounts(self: Transactions) -> list[Account]:
        """The active accounts, by name."""
        with self._tx("read site accounts") as conn:
            rows = conn.execute(
                select(web_accounts)
                .where(web_accounts.c.removed_at.is_(None))
                .order_by(web_accounts.c.name)
            ).mappings()
            return [Account(name=r["name"], role=r["role"], added_at=r["added_at"]) for r in rows]

    def account(self: Transactions, name: str) -> Account | None:
        with self._tx("read a site account") as conn:
            r = (
                conn.execute(
                    select(web_accounts).where(
                        web_accounts.c.name == name, web_accounts.c.removed_at.is_(None)
                    )
                )
                .mappings()
                .first()
            )
        return (
            None if r is None else Account(name=r["name"], role=r["role"], added_at=r["added_at"])
        )

    def credentials(self: Transactions, name: str) -> Credentials | None:
        with self._tx("read site credentials") as conn:
            r = (
                conn.execute(select(web_credentials).where(web_credentials.c.name == name))
                .mappings()
                .first()
            )
        if r is None:
            return None
        return Credentials(
            name=r["name"],
            password_hash=r["password_hash"],
            failed_logins=int(r["failed_logins"]),
            locked_until=r["locked_until"],
        )

    def login_failed(
        self: Transactions, name: str, *, lock_after: int, lock_for: timedelta
    ) -> Credentials | None:
        """Count a failed login; the ``lock_after``-th in a row locks the account for
        ``lock_for``. Returns the credentials as they are now (None: no such account)."""
        with self._tx("count a failed login", write=True) as conn:
            r = (
                conn.execute(select(web_credentials).where(web_credentials.c.name == name))
                .mappings()
                .first()
            )
            if r is None:
                return None
            now = datetime.now(UTC)
            failed = int(r["failed_logins"]) + 1
            locked = r["locked_until"]
            if failed >= lock_after:
                locked, failed = format_ts(now + lock_for), 0
            conn.execute(
                update(web_credentials)
                .where(web_credentials.c.name == name)
                .values(failed_logins=failed, locked_until=locked, updated_at=format_ts(now))
            )
        return Credentials(name, r["password_hash"], failed, locked)

    def login_succeeded(self: Transactions, name: str, *, new_hash: str | None = None) -> None:
        """Reset the failed-login counter (and store a re-hashed password, if given)."""
        values: dict[str, Any] = {
            "failed_logins": 0,
            "locked_until": None,
            "updated_at": format_ts(datetime.now(UTC)),
        }
        if new_hash is not None:
            values["password_hash"] = new_hash
        with self._tx("record a login", write=True) as conn:
            conn.execute(
                update(web_credentials).where(web_credentials.c.name == name).values(**values)
            )

    # -- access to gated releases --------------------------------------------------------

    def request_access(
        self: Transactions,
        *,
        version: str,
        name: str,
        affiliation: str,
        email: str,
        intended_use: str,
        terms_sha256: str,
        status_token_sha256: str,
    ) -> AccessRequest:
        """Record a request (and the acceptance of the terms whose sha256 is given)."""
        with self._write("record an access request") as (changes, now):
            row = changes.put(
                access_requests,
                {
                    "version": version,
                    "name": name,
                    "affiliation": affiliation,
                    "email": email,
                    "intended_use": intended_use,
                    "terms_sha256": terms_sha256,
                    "terms_accepted_at": now,
                    "status": "pending",
                    "status_token_sha256": status_token_sha256,
                    "requested_at": now,
                },
            )
            changes.commit_event("access.requested", at=now)
        return _request(row)

    def decide_access(
        self: Transactions, request_id: int, *, approve: bool, by: str, reason: str | None = None
    ) -> AccessRequest:
        """Approve or deny a pending request (a decided one is refused)."""
        with self._write("decide an access request") as (changes, now):
            old = _request_row(changes.conn, request_id)
            if old["status"] != "pending":
                raise LedgerError(
                    f"access request #{request_id} was already {old['status']} by "
                    f"{old['decided_by']} at {old['decided_at']}",
                    hint="a decision is final; the person may file a new request",
                )
            row = changes.change(
                access_requests,
                {"request_id": request_id},
                {
                    "status": "approved" if approve else "denied",
                    "decided_by": by,
                    "decided_at": now,
                    "decision_reason": reason,
                },
            )
            changes.commit_event("access.approved" if approve else "access.denied", at=now)
        return _request(row)

    def access_request(self: Transactions, request_id: int) -> AccessRequest | None:
        with self._tx("read an access request") as conn:
            r = (
                conn.execute(
                    select(access_requests).where(access_requests.c.request_id == request_id)
                )
                .mappings()
                .first()
            )
        return None if r is None else _request(r)

    def access_request_by_token(self: Transactions, token_sha256: str) -> AccessRequest | None:
        with self._tx("read an access request") as conn:
            r = (
                conn.execute(
                    select(access_requests).where(
                        access_requests.c.status_token_sha256 == token_sha256
                    )
                )
                .mappings()
                .first()
            )
        return None if r is None else _request(r)

    def access_requests(
        self: Transactions, *, status: str | None = None, limit: int = 500
    ) -> list[AccessRequest]:
        """Requests, newest first (only those with ``status``, if given)."""
        query = select(access_requests).order_by(access_requests.c.request_id.desc()).limit(limit)
        if status is not None:
            query = query.where(access_requests.c.status == status)
        with self._tx("read access requests") as conn:
            return [_request(r) for r in conn.execute(query).mappings()]

    def record_download(
        self: Transactions, *, version: str, path: str, request_id: int | None
    ) -> int:
        with self._write("record a download") as (changes, now):
            row = changes.put(
                downloads,
                {"version": version, "path": path, "request_id": request_id, "at": now},
            )
            changes.commit_event("access.download", at=now)
        return int(row["download_id"])

    def downloads(self: Transactions, *, version: str | None = None) -> list[Download]:
        query = select(downloads).order_by(downloads.c.download_id)
        if version is not None:
            query = query.where(downloads.c.version == version)
        with self._tx("read downloads") as conn:
            return [
                Download(
                    download_id=int(r["download_id"]),
                    version=r["version"],
                    path=r["path"],
                    request_id=r["request_id"],
                    at=r["at"],
                )
                for r in conn.execute(query).mappings()
            ]


def _request_row(conn: Connection, request_id: int) -> Any:
    r = (
        conn.execute(select(access_requests).where(access_requests.c.request_id == request_id))
        .mappings()
        .first()
    )
    if r is None:
        raise LedgerError(f"no access request #{request_id}")
    return r


def _put_credentials(conn: Connection, name: str, password_hash: str, now: str) -> None:
    conn.execute(delete(web_credentials).where(web_credentials.c.name == name))
    conn.execute(
        insert(web_credentials).values(
            name=name,
            password_hash=password_hash,
            failed_logins=0,
            locked_until=None,
            updated_at=now,
        )
    )
