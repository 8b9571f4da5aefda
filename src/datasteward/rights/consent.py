"""Consent: how the right to use a record is known — a separate question from its licence.

The ``consent`` column takes one value of a small vocabulary:

``explicit``
    The people the record is by or about agreed to this use (a signed form, an opt-in, a
    contributor agreement naming ML training).
``licence-only``
    Only a licence covers the use; nobody was asked. A CC licence is permission under
    copyright, not consent ("because people annotated creative commons, we could just publish
    that").
``opt-out-honoured``
    Collected without asking, but the creator's opt-out signals (robots.txt for AI crawlers,
    TDMRep, ``noai``, ai.txt, the suppression list) were checked and honoured.
``unknown``
    Nothing is known about consent. The default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datasteward.recipe.consent import CONSENT_VALUES, normalize_consent

__all__ = ["CONSENT_VALUES", "ConsentCount", "consent_summary", "normalize_consent"]


@dataclass(frozen=True)
class ConsentCount:
    source: str
    consent: str
    records: int


def consent_summary(run_dir: str | Path) -> list[ConsentCount]:
    """Records per (source, consent value) over a run's kept Parquet, via duckdb.

    Values outside the vocabulary are counted as they are, so that a bad input shows up.
    """
    from datasteward.runs.find import kept_glob, query

    rows = query(
        f"""
        SELECT source, coalesce(consent, 'unknown') AS consent, count(*) AS n
        FROM read_parquet('{kept_glob(run_dir)}', union_by_name = true)
        GROUP BY ALL ORDER BY source, consent
        """
    )
    return [ConsentCount(str(s), str(c), int(n)) for s, c, n in rows]
