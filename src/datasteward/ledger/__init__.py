"""The ledger: what happened to a dataset, in an SQL database with a hash-chained event log.

``Ledger.open(project_dir)`` opens ``<project_dir>/.datasteward/ledger.db`` (SQLite), or the
database named by ``DATASTEWARD_LEDGER_URL`` / the ``url`` argument (e.g. PostgreSQL via
``postgresql+psycopg://``), migrating its schema forward. See docs/ledger.md.
"""

from __future__ import annotations

from datasteward.ledger._engine import LEDGER_URL_ENV, resolve_url
from datasteward.ledger.changes import RecipeChange, recipe_changes
from datasteward.ledger.infos import DecisionInfo, EventInfo, RunInfo, StepInfo, VerifyResult
from datasteward.ledger.store import Ledger

__all__ = [
    "LEDGER_URL_ENV",
    "DecisionInfo",
    "EventInfo",
    "Ledger",
    "RecipeChange",
    "RunInfo",
    "StepInfo",
    "VerifyResult",
    "recipe_changes",
    "resolve_url",
]
