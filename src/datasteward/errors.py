"""One exception tree for datasteward.

Every message says what failed, where (file, line or offset, record, step, shard) and how to
fix it. Exceptions carry their arguments in ``args`` so that they pickle across process and
Ray boundaries.
"""

from __future__ import annotations


class DatastewardError(Exception):
    """Base of every error datasteward raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message, hint)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, self.hint))

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


def _rebuild(cls: type[DatastewardError], message: str, hint: str | None) -> DatastewardError:
    err = cls.__new__(cls)
    DatastewardError.__init__(err, message, hint=hint)
    return err


class RecipeError(DatastewardError):
    """The recipe (``datasteward.toml``) is missing, malformed or invalid."""


class SourceError(DatastewardError):
    """A source cannot be read at all (no files, unknown format, unreadable archive)."""


class RecordError(DatastewardError):
    """One record of a source cannot be read; in non-strict runs it goes to quarantine."""


class StepError(DatastewardError):
    """A step is unknown, misconfigured, or failed on a batch."""


class RunError(DatastewardError):
    """A run cannot start, resume or finish."""


class LedgerError(DatastewardError):
    """The ledger database cannot be opened, migrated or written."""


class MissingDependencyError(DatastewardError):
    """An optional dependency is needed for a feature but is not installed."""

    @classmethod
    def for_extra(cls, package: str, extra: str, feature: str) -> MissingDependencyError:
        return cls(
            f"{feature} needs the package `{package}`, which is not installed",
            hint=f"install it with `pip install 'datasteward[{extra}]'`",
        )


class ReleaseError(DatastewardError):
    """A release cannot be made, read, verified, taken down or deprecated."""


class IntegrityError(ReleaseError):
    """A release's files do not match its manifest (missing, extra, or changed bytes)."""


class DeprecatedDatasetError(ReleaseError):
    """The release was deprecated by its stewards; the message gives the reason and replacement."""


class TakedownRequestError(DatastewardError):
    """A takedown request from the public cannot be filed, confirmed or decided (a bad field, a
    forged or expired link, evidence of the wrong type or size)."""


class WebError(DatastewardError):
    """The stewardship site cannot start or serve (no secret, a bad option, a forged link)."""
