"""Helpers for the ledger tests: where a test's ledger lives, run statistics, starting a run."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from datasteward.ledger import LEDGER_URL_ENV, Ledger


@dataclass
class Backend:
    """Where a test's ledger lives, and a way to reach it behind the tool's back."""

    name: str
    project: Path
    url: str | None  # None: the default SQLite file in the project

    def open(self) -> Ledger:
        return Ledger.open(self.project, self.url)

    @property
    def env(self) -> dict[str, str]:
        """Environment for a subprocess or CLI run that should use this ledger."""
        env = {k: v for k, v in os.environ.items() if k != LEDGER_URL_ENV}
        if self.url:
            env[LEDGER_URL_ENV] = self.url
        return env

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run plain SQL with the database's own driver (not through datasteward)."""
        if self.url is None:
            con = sqlite3.connect(self.project / ".datasteward" / "ledger.db")
            try:
                rows = con.execute(statement, params).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        import psycopg

        with psycopg.connect(libpq(self.url), autocommit=True) as con:
            cur = con.execute(statement.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def stats_for(records_in: int, removed_by: dict[str, int], **extra: Any) -> dict[str, Any]:
    """Run statistics in the executor's shape, consistent: kept = in - removed."""
    removed = sum(removed_by.values())
    return {
        "records_in": records_in,
        "kept": records_in - removed,
        "removed": removed,
        "quarantined": 0,
        "edited": 0,
        "cpu_seconds": 1.25,
        "wall_seconds": 0.75,
        "peak_memory_bytes": 123_456_789,
        "bytes_read": 987_654,
        "bytes_written": 456_789,
        "error": None,
        "steps": [
            {
                "step_id": "s01-filter.length",
                "use": "filter.length",
                "options": {"min_words": 50},
                "records_in": records_in,
                "records_out": records_in - removed,
                "removed": removed,
                "edited": 0,
                "reasons": removed_by,
            }
        ],
        **extra,
    }


def start(
    ledger: Ledger, run_id: str, *, recipe_hash: str = "a" * 64, canonical: str = "{}"
) -> None:
    ledger.start_run(
        run_id,
        recipe_hash=recipe_hash,
        recipe_text="[dataset]\nname = 't'\n",
        recipe_canonical=canonical,
        datasteward_version="0.1.0",
        executor="local",
        workers=2,
        options={"batch_size": 1024, "strict": False},
    )
