"""What the ledger's method groups (``ReleaseRecords``, ``ReviewRecords``) need of ``Ledger``.

They are mixed into :class:`~datasteward.ledger.store.Ledger` and run their SQL through its
transactions; this protocol is the type of ``self`` in their methods.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy import Connection

from datasteward.ledger._writes import Changes


class Transactions(Protocol):
    def _tx(self, what: str, *, write: bool = False) -> AbstractContextManager[Connection]:
        """A transaction; SQL errors become a ``LedgerError`` that says what failed."""
        ...

    def _write(self, what: str) -> AbstractContextManager[tuple[Changes, str]]:
        """A write transaction with the chain head locked: (changes, now)."""
        ...
