"""Helpers for the ledger tests: a run's statistics in the executor's shape, starting a run."""

from __future__ import annotations

from typing import Any

from datasteward.ledger import Ledger


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
