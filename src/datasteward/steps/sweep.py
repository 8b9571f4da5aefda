"""What a step's decision means in SQL, so ``whatif`` can re-derive and sweep it.

A step whose decision is a function of the signal columns it stores (on every record it saw,
kept or removed) and of its options says so in ``Step.whatif_predicate``: a SQL expression
over those columns, true where the record is removed. ``whatif`` evaluates it under the run's
options (it must reproduce the run's decisions) and under other options. :class:`SqlPredicate`
builds such an expression and remembers which signals it reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from datasteward.errors import StepError


@dataclass(frozen=True)
class WhatIf:
    """A step's decision as SQL: ``sql`` is true for records the step removes."""

    sql: str
    #: The signal columns ``sql`` reads, in order of first use.
    signals: tuple[str, ...] = ()


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_num(value: object) -> str:
    """A number (or boolean, or NULL) as SQL."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value))
    raise StepError(f"expected a number, got {value!r}")


class SqlPredicate:
    """Builds a removal predicate over signal columns, noting each column it reads."""

    def __init__(self) -> None:
        self._signals: dict[str, None] = {}

    def col(self, name: str) -> str:
        """The quoted column ``name`` (recorded as a signal the predicate needs)."""
        self._signals[name] = None
        return '"' + name.replace('"', '""') + '"'

    def gt(self, name: str, value: object) -> str:
        """``name > value``, false for NaN and NULL (as Python's comparisons in the steps)."""
        c = self.col(name)
        return f"({c} > {sql_num(value)} AND NOT isnan({c}::DOUBLE))"

    def lt(self, name: str, value: object) -> str:
        """``name < value``, false for NaN and NULL."""
        c = self.col(name)
        return f"({c} < {sql_num(value)} AND NOT isnan({c}::DOUBLE))"

    def any_of(self, parts: Iterable[str]) -> WhatIf:
        """The predicate true where any part is (FALSE for no parts)."""
        listed = list(parts)
        sql = "(" + " OR ".join(listed) + ")" if listed else "FALSE"
        return WhatIf(sql, tuple(self._signals))

    @staticmethod
    def never() -> WhatIf:
        """The predicate of a step that removes nothing under these options."""
        return WhatIf("FALSE")
