"""Deduplication steps (global: they see every shard before deciding)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasteward.steps.base import StepCounts


def duplicates_answer(counts: StepCounts, records_read: int | None) -> dict[tuple[str, str], str]:
    """What a deduplication step adds to the datasheet's ``composition.noise`` answer."""
    share = f"{counts.removed / records_read:.1%}" if records_read else "n/a"
    noise = f"Duplicates removed: {counts.removed:,} ({share} of the input)."
    return {("composition", "noise"): noise}
