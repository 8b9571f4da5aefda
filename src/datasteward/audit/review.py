"""Human review of sampled records: judgements in the ledger, summarised per stratum."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def review_summary(project: Path, run_id: str) -> list[dict[str, Any]] | None:
    """Per-stratum share of problems among reviewed records of a run, or None."""
    return None
