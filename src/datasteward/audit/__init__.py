"""Audit a run: what is in the data, what each step cost, and whom it removed more often.

``audit_run(run_dir, out_dir, config)`` writes ``audit.json`` and ``report.html``; see
docs/audit.md. Everything is computed with DuckDB over the run's Parquet files.
"""

from __future__ import annotations

from datasteward.audit.config import AuditConfig, SqlSlice, config_from_recipe_file
from datasteward.audit.lexicon import Lexicon, compile_lexicons, load_lexicon
from datasteward.audit.run_audit import audit_run

__all__ = [
    "AuditConfig",
    "Lexicon",
    "SqlSlice",
    "audit_run",
    "compile_lexicons",
    "config_from_recipe_file",
    "load_lexicon",
]
