"""Deduplication steps (global: they see every shard before deciding)."""

from __future__ import annotations

from datasteward.steps.base import GlobalStep, StepCounts


class DedupStep(GlobalStep):
    """A deduplication step: what it removed is the datasheet's answer about duplicates."""

    def datasheet_answers(
        self, counts: StepCounts, *, records_read: int | None
    ) -> dict[tuple[str, str], str]:
        share = f"{counts.removed / records_read:.1%}" if records_read else "n/a"
        noise = f"Duplicates removed: {counts.removed:,} ({share} of the input)."
        return {("composition", "noise"): noise}
