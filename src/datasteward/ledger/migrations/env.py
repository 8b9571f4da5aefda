"""Alembic environment: migrate the connection that ``datasteward.ledger.migrate`` passes in.

There is no alembic.ini; the ledger opens a transaction (locked against concurrent
migrations), hands its connection over in ``config.attributes["connection"]`` and commits.
"""

from __future__ import annotations

from alembic import context

from datasteward.errors import LedgerError

connection = context.config.attributes.get("connection")
if connection is None:
    raise LedgerError(
        "the ledger migrations run only through datasteward",
        hint="open the ledger with datasteward.ledger.Ledger.open(project_dir)",
    )
context.configure(
    connection=connection,
    target_metadata=None,
    # SQLite cannot ALTER most things; batch mode recreates the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
