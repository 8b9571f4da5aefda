"""What a non-draft release must satisfy before it goes out (the datasheet gate)."""

from __future__ import annotations

from datasteward.release.documents.context import ReleaseContext


def release_gate(ctx: ReleaseContext) -> None:
    """Raise ReleaseError if required datasheet answers are missing or recipe changes are
    unexplained."""
    from datasteward.release.documents.datasheet import check_ready

    check_ready(ctx, ctx.datasheet)
