"""The one step contract, over Arrow record batches.

A step receives a batch of records and a :class:`StepContext` (which shard, of how many, where
the run keeps its files) and returns a :class:`StepResult`: the records that go on, the records
it removed, and one trace row per removal or edit. Executors only ever call this contract, so
the same steps run in local worker processes or on Ray.

Most steps subclass a base per kind, which owns the bookkeeping:

* :class:`Annotator` measures signals and adds them as columns (``annotate``);
* :class:`Filter` decides per record from signals (``decide``), and the base splits the batch
  and writes the trace;
* :class:`Editor` changes the text of some records (``edit``) and traces each edit;
* :class:`GlobalStep` needs every shard before it can decide (deduplication): ``index`` runs
  per shard, ``finalize`` once, then ``process`` per shard applies the decisions.

Options are one frozen dataclass per step (``Options``), built from the recipe keys with clear
errors for unknown or mistyped keys, and hashed into the run record.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.records.schema import TEXT_COLUMN, TRACE_SCHEMA


@dataclass(frozen=True)
class StepOptions:
    """Base of every step's options dataclass (frozen, keyword-only)."""


@dataclass(frozen=True)
class StepContext:
    """Where a step runs: which shard of how many, and where the run keeps its files."""

    run_dir: Path
    step_id: str
    rank: int = 0
    world_size: int = 1
    recipe_dir: Path = field(default_factory=Path.cwd)

    @property
    def state_dir(self) -> Path:
        """A folder private to this step in this run (for global steps' indexes)."""
        return self.run_dir / "_work" / "steps" / self.step_id


@dataclass
class StepResult:
    """What a step gives back for one batch."""

    kept: pa.RecordBatch
    removed: pa.RecordBatch | None = None
    trace: pa.Table | None = None


def empty_trace() -> pa.Table:
    return TRACE_SCHEMA.empty_table()


def trace_table(
    *,
    ids: Sequence[str] | pa.Array,
    step: str,
    action: str,
    reason: Sequence[str] | str,
    value: Sequence[float | None] | np.ndarray | None = None,
    threshold: Sequence[float | None] | np.ndarray | float | None = None,
    dup_of: Sequence[str | None] | None = None,
    detail: Sequence[str | None] | None = None,
) -> pa.Table:
    """Build trace rows; scalars are broadcast to every row."""
    n = len(ids)

    def col(x: Any, typ: pa.DataType) -> pa.Array:
        if x is None:
            return pa.nulls(n, typ)
        if isinstance(x, (str, float, int)):
            return pa.array([x] * n, typ)
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            return pa.array(x, typ, from_pandas=True)  # NaN -> null
        return pa.array(x, typ)

    return pa.Table.from_arrays(
        [
            col(ids, pa.string()),
            pa.array([step] * n, pa.string()),
            pa.array([action] * n, pa.string()),
            col(reason, pa.string()),
            col(value, pa.float64()),
            col(threshold, pa.float64()),
            col(dup_of, pa.string()),
            col(detail, pa.string()),
        ],
        schema=TRACE_SCHEMA,
    )


def with_columns(batch: pa.RecordBatch, columns: Mapping[str, pa.Array]) -> pa.RecordBatch:
    """Add or replace columns of a batch."""
    for name, values in columns.items():
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
        idx = batch.schema.get_field_index(name)
        if idx >= 0:
            batch = batch.set_column(idx, name, arr)
        else:
            batch = batch.append_column(name, arr)
    return batch


def texts(batch: pa.RecordBatch) -> list[str]:
    """The text column as Python strings (empty string for null)."""
    return [t if t is not None else "" for t in batch.column(TEXT_COLUMN).to_pylist()]


class Step(ABC):
    """Base of every step. Subclasses set ``name``, ``Options`` and implement ``process``."""

    #: The name users write in ``[[steps]] use = ...``.
    name: ClassVar[str] = ""
    #: The frozen options dataclass of this step.
    Options: ClassVar[type[StepOptions]] = StepOptions
    #: True for steps that must see every shard before deciding (see :class:`GlobalStep`).
    is_global: ClassVar[bool] = False

    def __init__(self, options: StepOptions | None = None) -> None:
        self.options = options if options is not None else self.Options()
        if not isinstance(self.options, self.Options):
            raise StepError(
                f"step `{self.name}` takes {self.Options.__name__}, "
                f"got {type(self.options).__name__}"
            )

    # ---- construction from the recipe ---------------------------------------------------
    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, where: str = "") -> Step:
        """Build the step from recipe keys, naming unknown keys and wrong types."""
        return cls(build_options(cls.Options, config, step=cls.name, where=where))

    def fingerprint(self) -> dict[str, Any]:
        """The canonical form of this step, hashed into the run record."""
        return {"use": self.name, "options": options_to_dict(self.options)}

    # ---- life cycle ---------------------------------------------------------------------
    def check(self, recipe_dir: Path) -> None:  # noqa: B027 - optional hook
        """Fail before the run starts if something the step needs is missing (files...)."""

    def setup(self, ctx: StepContext) -> None:  # noqa: B027 - optional hook
        """Load what the step needs in the worker (word lists, models). Called once per shard."""

    @abstractmethod
    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        """Process one batch."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.options}>"


class Annotator(Step):
    """A step that measures signals and adds them as columns; it never removes."""

    @abstractmethod
    def annotate(self, batch: pa.RecordBatch) -> Mapping[str, pa.Array]:
        """Return the signal columns to add (name -> array of len(batch))."""

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        return StepResult(kept=with_columns(batch, self.annotate(batch)))


@dataclass
class FilterDecision:
    """A filter's decision for every record of a batch.

    ``keep`` is a boolean mask; for removed rows ``reason`` names why (a short code such as
    ``too_few_words``), ``value`` is what was measured and ``threshold`` the limit it crossed.
    ``signals`` are columns added to every record (kept or removed), so that the decision can
    be re-derived and swept later without re-measuring.
    """

    keep: np.ndarray
    reason: Sequence[str | None]
    value: Sequence[float | None] | np.ndarray | None = None
    threshold: Sequence[float | None] | np.ndarray | None = None
    detail: Sequence[str | None] | None = None
    signals: Mapping[str, pa.Array] = field(default_factory=dict)


class Filter(Step):
    """A step that keeps or removes whole records. Subclasses implement ``decide``."""

    @abstractmethod
    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        """Decide for every record of the batch."""

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        decision = self.decide(batch)
        batch = with_columns(batch, decision.signals)
        keep = np.asarray(decision.keep, dtype=bool)
        if keep.shape != (batch.num_rows,):
            raise StepError(
                f"step `{ctx.step_id}` returned {keep.shape} decisions for {batch.num_rows} records"
            )
        if keep.all():
            return StepResult(kept=batch)
        drop = np.flatnonzero(~keep)
        removed = batch.take(pa.array(drop))

        def pick(values: Any) -> Any:
            if values is None:
                return None
            return [values[i] for i in drop]

        reasons = pick(decision.reason)
        if any(r is None for r in reasons):
            raise StepError(f"step `{ctx.step_id}` removed a record without giving a reason")
        trace = trace_table(
            ids=removed.column("id"),
            step=ctx.step_id,
            action="remove",
            reason=reasons,
            value=pick(decision.value),
            threshold=pick(decision.threshold),
            detail=pick(decision.detail),
        )
        return StepResult(kept=batch.filter(pa.array(keep)), removed=removed, trace=trace)


@dataclass
class EditDecision:
    """An editor's result: the new text for every record, and which were edited and why."""

    text: Sequence[str] | pa.Array
    edited: np.ndarray
    reason: Sequence[str | None]
    detail: Sequence[str | None] | None = None
    signals: Mapping[str, pa.Array] = field(default_factory=dict)


class Editor(Step):
    """A step that changes the text of records (line removal, redaction) and traces each edit."""

    @abstractmethod
    def edit(self, batch: pa.RecordBatch) -> EditDecision:
        """Return the new texts and which records changed."""

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        decision = self.edit(batch)
        text = decision.text
        if not isinstance(text, pa.Array):
            text = pa.array(text, pa.large_string())
        batch = with_columns(batch, {TEXT_COLUMN: text, **decision.signals})
        edited = [int(i) for i in np.flatnonzero(np.asarray(decision.edited, dtype=bool))]
        if len(edited) == 0:
            return StepResult(kept=batch)
        ids = batch.column("id").take(pa.array(edited))
        trace = trace_table(
            ids=ids,
            step=ctx.step_id,
            action="edit",
            reason=[decision.reason[i] or "edited" for i in edited],
            detail=None if decision.detail is None else [decision.detail[i] for i in edited],
        )
        return StepResult(kept=batch, trace=trace)


class GlobalStep(Step):
    """A step that must see every shard before deciding (e.g. deduplication).

    The executor calls ``index`` on every shard (after the steps before this one), then
    ``finalize`` once, then ``process`` on every shard. State passes through files under
    ``ctx.state_dir`` only, so the phases may run in different processes or machines.
    """

    is_global: ClassVar[bool] = True

    @abstractmethod
    def index(self, batch: pa.RecordBatch, ctx: StepContext, *, offset: int) -> None:
        """Record what this shard's batch contributes. ``offset`` is the batch's first row
        number within the shard, so that the order of records is known globally."""

    def end_index(self, ctx: StepContext) -> None:  # noqa: B027 - optional hook
        """Called after the last batch of a shard has been indexed."""

    @abstractmethod
    def finalize(self, ctx: StepContext) -> None:
        """Decide, once all shards are indexed. ``ctx.rank`` is 0 and ``world_size`` the
        number of shards."""


# ---- options ------------------------------------------------------------------------------
def options_to_dict(options: StepOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def _type_ok(value: Any, annotation: Any) -> tuple[bool, Any]:
    """Check (and gently coerce) a TOML value against a dataclass field annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            ok, coerced = _type_ok(value, arg)
            if ok:
                return True, coerced
        return False, value
    if annotation is type(None):
        return value is None, value
    if annotation is Any:
        return True, value
    if origin is typing.Literal:
        return value in typing.get_args(annotation), value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            return False, value
        args = typing.get_args(annotation)
        item = args[0] if args else Any
        coerced_items = []
        for v in value:
            ok, c = _type_ok(v, item)
            if not ok:
                return False, value
            coerced_items.append(c)
        return True, tuple(coerced_items) if origin is tuple else coerced_items
    if origin is dict or annotation is dict:
        return isinstance(value, dict), value
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        return False, value
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if annotation is bool:
        return isinstance(value, bool), value
    if annotation is str:
        return isinstance(value, str), value
    if isinstance(annotation, type):
        return isinstance(value, annotation), value
    return True, value


def _describe(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def build_options(
    options_cls: type[StepOptions], config: Mapping[str, Any], *, step: str, where: str = ""
) -> StepOptions:
    """Build a step's options dataclass from recipe keys, with errors that say what to fix."""
    loc = f" ({where})" if where else ""
    hints = typing.get_type_hints(options_cls)
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    kwargs: dict[str, Any] = {}
    for key, value in config.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise StepError(
                f"step `{step}`{loc} has no option `{key}`",
                hint=f"its options are: {known}",
            )
        ok, coerced = _type_ok(value, hints[key])
        if not ok:
            raise StepError(
                f"step `{step}`{loc}: option `{key}` must be {_describe(hints[key])}, got {value!r}"
            )
        kwargs[key] = coerced
    try:
        options = options_cls(**kwargs)
    except TypeError as exc:  # a required option is missing
        raise StepError(f"step `{step}`{loc}: {exc}") from None
    validate = getattr(options, "validate", None)
    if callable(validate):
        validate()
    return options
