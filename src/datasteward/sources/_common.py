"""Helpers shared by readers: format options, the wrong-field-name check, batch bounds."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from datasteward.errors import SourceError
from datasteward.recipe.model import SourceConfig
from datasteward.sources.base import QUARANTINE_RAW_BYTES, BadRecord, OnBad

#: A batch is flushed when its texts reach this many characters, whatever ``batch_size`` says.
MAX_BATCH_CHARS = 64 << 20

#: How many records without the text field, and none with it, prove the field name wrong.
FIELD_CHECK_RECORDS = 100

T = TypeVar("T")


def parse_options(config: SourceConfig, cls: type[T]) -> T:
    """Build a reader's frozen options dataclass from ``[sources] options``, checking keys/types."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = get_type_hints(cls)
    where = f" (declared at {config.where})" if config.where else ""
    values: dict[str, Any] = {}
    for key, value in config.options.items():
        if key not in fields:
            raise SourceError(
                f"source `{config.name}`{where}: unknown option `{key}` for format "
                f"{config.format!r}",
                hint="options for this format are: " + (", ".join(fields) or "(none)"),
            )
        expected = hints[key]
        if not _matches(value, expected):
            raise SourceError(
                f"source `{config.name}`{where}: option `{key}` must be {_describe(expected)}, "
                f"got {value!r}",
                hint=f"fix `{key}` under [sources.options] of `{config.name}`",
            )
        values[key] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def _matches(value: Any, tp: Any) -> bool:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in get_args(tp))
    if origin is Literal:
        return value in get_args(tp)
    if tp is type(None):
        return value is None
    if origin in (tuple, list):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return isinstance(value, list | tuple) and all(_matches(v, args[0]) for v in value)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    return True


def _describe(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if get_origin(tp) in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(tp) if a is not type(None))
    return getattr(tp, "__name__", str(tp))


def bad(
    config: SourceConfig, file: str, where: str, error: str, raw: bytes = b"", *,
    records: int = 1,
) -> BadRecord:
    return BadRecord(
        source=config.name, file=file, where=where, error=error, raw=raw[:QUARANTINE_RAW_BYTES],
        records=records,
    )


class TextFieldGuard:
    """Detects a wrong ``text_field`` in schemaless input (JSON): records missing the field are
    held back until one record has it; if none of the first records has it, the name is wrong.
    """

    def __init__(
        self, config: SourceConfig, file: str, on_bad: OnBad, *, whole_file: bool = True
    ) -> None:
        self.config = config
        self.file = file
        self.on_bad = on_bad
        #: False for a part of a split file: records held at its end are quarantined, not
        #: taken as a wrong ``text_field`` (a later part may have the field).
        self.whole_file = whole_file
        self.seen_text = False
        self.held: list[BadRecord] = []
        self.fields: dict[str, None] = {}

    def found(self) -> None:
        if not self.seen_text:
            self.seen_text = True
            for b in self.held:
                self.on_bad(b)
            self.held.clear()

    def missing(self, record: Mapping[str, Any] | None, bad_record: BadRecord) -> None:
        if self.seen_text:
            self.on_bad(bad_record)
            return
        if record is not None:
            self.fields.update(dict.fromkeys(record))
        self.held.append(bad_record)
        if len(self.held) >= FIELD_CHECK_RECORDS:
            self.fail()

    def rejected(
        self, record: Mapping[str, Any] | None, bad_record: BadRecord, *, missing_field: bool
    ) -> None:
        """A record that could not be added: held back if it lacks the text field (see
        :meth:`missing`), else quarantined at once (its text field was there)."""
        if missing_field:
            self.missing(record, bad_record)
        else:
            self.found()
            self.on_bad(bad_record)

    def finish(self) -> None:
        if self.held and not self.seen_text:
            if self.fields and self.whole_file:
                self.fail()
            for b in self.held:  # none of them was an object: they are just bad records
                self.on_bad(b)
            self.held.clear()

    def fail(self) -> None:
        where = f" (declared at {self.config.where})" if self.config.where else ""
        raise SourceError(
            f"source `{self.config.name}`{where}: text_field = {self.config.text_field!r}, but "
            f"none of the first {len(self.held)} records of {self.file} has that field; "
            f"their fields are: {', '.join(self.fields) or '(none)'}",
            hint="set text_field to the field that holds the text",
        )
