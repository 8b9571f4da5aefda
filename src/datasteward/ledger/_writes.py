"""Write rows and describe the writes for the event that records them.

Every change to a chained table goes through a ``Changes`` object inside one transaction. It
performs the SQL and remembers, for the event payload, the full content of each row as the
database holds it afterwards (read back, so types are what ``verify`` will later read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, insert, select, update

from datasteward.ledger.chain import append_event


def primary_key(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


class Changes:
    """The writes of one event; ``commit_event`` appends the event that records them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ops: list[dict[str, Any]] = []

    def _read_back(self, table: Table, key: Mapping[str, Any]) -> dict[str, Any]:
        cond = and_(*(table.c[k] == v for k, v in key.items()))
        row = self.conn.execute(select(table).where(cond)).mappings().one()
        return dict(row)

    def put(self, table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a row; returns it as stored (with any generated key)."""
        result = self.conn.execute(insert(table).values(**values))
        pk_names = primary_key(table)
        key = dict(zip(pk_names, result.inserted_primary_key or (), strict=True))
        row = self._read_back(table, key)
        self.ops.append({"op": "put", "table": table.name, "row": row})
        return row

    def change(
        self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Update one row by primary key; returns the whole row as stored."""
        cond = and_(*(table.c[k] == v for k, v in key.items()))
        self.conn.execute(update(table).where(cond).values(**values))
        row = self._read_back(table, key)
        self.ops.append({"op": "put", "table": table.name, "row": row})
        return row

    def delete_where(self, table: Table, match: Mapping[str, Any]) -> None:
        cond = and_(*(table.c[k] == v for k, v in match.items()))
        self.conn.execute(delete(table).where(cond))
        self.ops.append({"op": "delete", "table": table.name, "match": dict(match)})

    def commit_event(self, type: str, *, at: str) -> int:
        return append_event(self.conn, type=type, payload={"changes": self.ops}, at=at)
