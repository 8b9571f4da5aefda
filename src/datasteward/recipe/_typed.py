"""Build a frozen dataclass from one TOML table: unknown keys and wrong types are errors that
name the file, the line and the key; the fields (and their defaults) are declared once, on the
dataclass."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from datasteward.recipe._where import Where

T = TypeVar("T")


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        parts = [_describe(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(parts)
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        plural = {str: "strings", int: "integers", float: "numbers", bool: "booleans"}
        return f"a list of {plural.get(args[0], 'values')}" if args else "a list"
    if origin in (dict, Mapping) or annotation is dict:
        return "a table"
    names = {str: "a string", bool: "true or false", int: "an integer", float: "a number"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def fit_value(value: Any, annotation: Any) -> tuple[bool, Any]:
    """(fits, value as the field holds it) for a TOML value and a dataclass field annotation.

    The one type check of the recipe's tables and of every step's options: ints are floats where
    a float is wanted, TOML arrays become tuples (or lists where the field says ``list``),
    ``Literal`` fields take only their listed values, and ``Any`` takes anything."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            ok, out = fit_value(value, arg)
            if ok:
                return True, out
        return False, value
    if annotation is type(None):
        return value is None, value
    if annotation is Any:
        return True, value
    if origin is typing.Literal:
        return value in typing.get_args(annotation), value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            return False, value
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        items = []
        for v in value:
            ok, out = fit_value(v, args[0]) if args else (True, v)
            if not ok:
                return False, value
            items.append(out)
        return True, tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or annotation is dict:
        return isinstance(value, dict), value
    if annotation is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if isinstance(annotation, type):
        return isinstance(value, annotation), value
    return True, value


def build(
    cls: type[T],
    raw: Mapping[str, Any],
    where: Where,
    *,
    table: str,
    index: int | None = None,
    label: str | None = None,
    skip: frozenset[str] = frozenset(),
    extra: Mapping[str, Any] | None = None,
) -> T:
    """``cls(**raw)`` after checking every key and type against ``cls``'s fields.

    ``skip`` names fields the caller parses itself (nested tables); ``extra`` is added as is
    (e.g. ``where``). ``label`` is how the table is named in messages (``[dataset]``).
    """
    name = label or f"[{table}]"
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)} - set(extra or {}) - {"where"}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in skip:
            continue
        if key not in fields:
            raise where.err(
                f"unknown key `{key}` in {name}",
                table=table,
                index=index,
                key=key,
                hint=f"{name} keys are: " + ", ".join(sorted(fields)),
            )
        ok, out = fit_value(value, hints[key])
        if not ok:
            raise where.err(
                f"`{key}` in {name} must be {_describe(hints[key])}, got {value!r}",
                table=table,
                index=index,
                key=key,
            )
        kwargs[key] = out
    try:
        return cls(**kwargs, **(extra or {}))
    except TypeError as exc:  # a required key is missing
        missing = [
            f.name
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.name not in kwargs
            and f.name not in (extra or {})
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        raise where.err(
            f"{name} needs `{'`, `'.join(missing) or exc}`", table=table, index=index
        ) from None
