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
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.recipe import fit_value
from datasteward.recipe.model import Recipe
from datasteward.records.edits import replace_text
from datasteward.records.schema import (
    CONTENT_SHA256,
    ID,
    SOURCE_CONTENT_SHA256,
    TEXT_COLUMN,
    TRACE_SCHEMA,
)
from datasteward.runs.layout import RunLayout
from datasteward.steps.sweep import WhatIf


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
    #: The recipe the run was started with (its policy, sources, dataset...): the recipe
    #: hashed into the run record. Executors always set it (it pickles to worker processes);
    #: a step that needs it calls :meth:`require_recipe` instead of reading a file.
    recipe: Recipe | None = None

    @classmethod
    def for_recipe(
        cls, recipe: Recipe, *, run_dir: Path, step_id: str, rank: int = 0, world_size: int = 1
    ) -> StepContext:
        """The context of a step of ``recipe`` (relative paths resolve against its folder)."""
        return cls(
            run_dir=run_dir,
            step_id=step_id,
            rank=rank,
            world_size=world_size,
            recipe_dir=recipe.dir,
            recipe=recipe,
        )

    def require_recipe(self, step: str) -> Recipe:
        """The run's recipe, or a clear error for a context built without one."""
        if self.recipe is None:
            raise StepError(
                f"step `{step}` ({self.step_id}) needs the recipe it runs under (its [policy] "
                "and sources), but its context carries none",
                hint="executors pass it; elsewhere build the context with "
                "StepContext.for_recipe(recipe, run_dir=..., step_id=...)",
            )
        return self.recipe

    @property
    def state_dir(self) -> Path:
        """A folder private to this step in this run (for global steps' indexes)."""
        return RunLayout(self.run_dir).step_dir(self.step_id)


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

    def check_recipe(self, recipe: Recipe) -> None:  # noqa: B027 - optional hook
        """Fail before the run starts if the recipe lacks what the step needs (its policy...).

        Called after :meth:`check` with the recipe the run starts with."""

    def setup(self, ctx: StepContext) -> None:  # noqa: B027 - optional hook
        """Load what the step needs in the worker (word lists, models). Called once per shard."""

    @abstractmethod
    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        """Process one batch."""

    # ---- what the step means: for whatif, the audit and the datasheet ---------------------
    #: Options whose change needs the text measured again: ``whatif`` refuses to sweep them.
    whatif_fixed: ClassVar[tuple[str, ...]] = ()
    #: A note ``whatif`` shows with its result (what can and cannot be swept).
    whatif_note: ClassVar[str] = ""
    #: Why ``whatif`` cannot sweep this step (shown when :meth:`whatif_predicate` gives None).
    whatif_unsupported: ClassVar[str] = (
        "its decision is not a SQL function of the signals it stores (it has no "
        "whatif_predicate); re-run the step instead"
    )

    def whatif_predicate(self) -> WhatIf | None:
        """This step's decision under its options, as SQL over the signal columns it stores:
        true for records it removes. None (the default) if it cannot be re-derived that way."""
        return None

    def explain(self) -> str:
        """What the step does, in words, for the datasheet (default: the first sentence of the
        class docstring)."""
        doc = (type(self).__doc__ or "").strip()
        first = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
        return first[0].lower() + first[1:].rstrip(".") if first else ""

    def describe(self, counts: StepCounts) -> str:
        """One line of the datasheet's preprocessing answer: what the step does and did."""
        return describe_counts(counts, self.explain())

    def datasheet_answers(
        self, counts: StepCounts, *, records_read: int | None
    ) -> dict[tuple[str, str], str]:
        """Sentences this step adds to datasheet answers, by (section, question key): e.g.
        deduplication to ``composition.noise``, PII to ``composition.identification``.
        ``records_read`` is what the whole run read (None if unknown)."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.options}>"


def describe_counts(counts: StepCounts, what: str = "") -> str:
    """A step's line in the datasheet: ``what`` it does (if known) and what it did in the run."""
    reasons = ", ".join(
        f"{k} {v:,}" for k, v in sorted(counts.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    share = f"{counts.removed / counts.records_in:.1%}" if counts.records_in else "n/a"
    return (
        f"`{counts.step_id}`"
        + (f" ({what})" if what else "")
        + f" removed {counts.removed:,} of {counts.records_in:,} ({share})"
        + (f", edited {counts.edited:,}" if counts.edited else "")
        + (f": {reasons}" if reasons else "")
    )


class StepCounts(Protocol):
    """What a run counted for one step (the run's typed step statistics have these)."""

    @property
    def step_id(self) -> str: ...
    @property
    def records_in(self) -> int: ...
    @property
    def removed(self) -> int: ...
    @property
    def edited(self) -> int: ...
    @property
    def reasons(self) -> Mapping[str, int]: ...


class Annotator(Step):
    """A step that measures signals and adds them as columns; it never removes."""

    @abstractmethod
    def annotate(self, batch: pa.RecordBatch) -> Mapping[str, pa.Array]:
        """Return the signal columns to add (name -> array of len(batch))."""

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        return StepResult(kept=with_columns(batch, signal_columns(self.annotate(batch), ctx)))


#: Columns a step's signals may not replace: the text changes only through a decision's
#: ``text`` (which keeps the hashes true), and the hashes only with it.
GUARDED_COLUMNS: tuple[str, ...] = (TEXT_COLUMN, CONTENT_SHA256, SOURCE_CONTENT_SHA256)


def signal_columns(signals: Mapping[str, pa.Array], ctx: StepContext) -> Mapping[str, pa.Array]:
    """``signals``, refused if they would replace the text or its hashes."""
    guarded = [name for name in signals if name in GUARDED_COLUMNS]
    if guarded:
        raise StepError(
            f"step `{ctx.step_id}` returned the column(s) {', '.join(guarded)} as signals",
            hint="a step changes the text with FilterDecision(text=...) or an Editor, so that "
            "the base rehashes it; signals are new columns",
        )
    return signals


@dataclass
class FilterDecision:
    """A filter's decision for every record of a batch: which stay, and optionally new texts.

    ``keep`` is a boolean mask; for removed rows ``reason`` names why (a short code such as
    ``too_few_words``), ``value`` is what was measured and ``threshold`` the limit it crossed.
    ``signals`` are columns added to every record (kept or removed), so that the decision can
    be re-derived and swept later without re-measuring.

    A filter that also edits (``c4`` removes lines, ``pii`` redacts) gives ``text``: the new
    text of every record (removed records keep their old text, so what was removed can be
    read). Kept records whose text changed are traced as edits, with ``edit_reason`` (default
    ``edited``), ``edit_value`` and ``edit_detail``, and their content hash is recomputed
    (:func:`datasteward.records.edits.replace_text`).
    """

    keep: np.ndarray
    reason: Sequence[str | None]
    value: Sequence[float | None] | np.ndarray | None = None
    threshold: Sequence[float | None] | np.ndarray | None = None
    detail: Sequence[str | None] | None = None
    signals: Mapping[str, pa.Array] = field(default_factory=dict)
    text: Sequence[str | None] | pa.Array | None = None
    edit_reason: Sequence[str | None] | None = None
    edit_value: Sequence[float | None] | np.ndarray | None = None
    edit_detail: Sequence[str | None] | None = None


def apply_decision(batch: pa.RecordBatch, decision: FilterDecision, ctx: StepContext) -> StepResult:
    """Split a batch by a decision, apply its edits and write the trace (one place for all)."""
    batch = with_columns(batch, signal_columns(decision.signals, ctx))
    keep = np.asarray(decision.keep, dtype=bool)
    if keep.shape != (batch.num_rows,):
        raise StepError(
            f"step `{ctx.step_id}` returned {keep.shape} decisions for {batch.num_rows} records"
        )
    traces: list[pa.Table] = []
    removed = None
    if not keep.all():
        drop = np.flatnonzero(~keep)
        removed = batch.take(pa.array(drop, pa.int64()))
        reasons = _pick(decision.reason, drop)
        if reasons is None or any(r is None for r in reasons):
            raise StepError(f"step `{ctx.step_id}` removed a record without giving a reason")
        traces.append(
            trace_table(
                ids=removed.column(ID),
                step=ctx.step_id,
                action="remove",
                reason=reasons,
                value=_pick(decision.value, drop),
                threshold=_pick(decision.threshold, drop),
                detail=_pick(decision.detail, drop),
            )
        )
    kept = batch if removed is None else batch.filter(pa.array(keep))
    if decision.text is not None:
        kept, edit_trace = _apply_edits(kept, decision, keep, ctx)
        if edit_trace is not None:
            traces.append(edit_trace)
    trace = None if not traces else traces[0] if len(traces) == 1 else pa.concat_tables(traces)
    return StepResult(kept=kept, removed=removed, trace=trace)


def _pick(values: Any, rows: np.ndarray) -> Any:
    if values is None:
        return None
    return [values[i] for i in rows.tolist()]


def _apply_edits(
    kept: pa.RecordBatch, decision: FilterDecision, keep: np.ndarray, ctx: StepContext
) -> tuple[pa.RecordBatch, pa.Table | None]:
    """Put the new texts of the kept records in place (rehashed) and trace the changed ones."""
    text = decision.text
    if not isinstance(text, pa.Array):
        text = pa.array(text, kept.schema.field(TEXT_COLUMN).type)
    if len(text) != len(keep):
        raise StepError(f"step `{ctx.step_id}` returned {len(text)} texts for {len(keep)} records")
    rows = np.flatnonzero(keep)
    if len(rows) != len(keep):
        text = text.take(pa.array(rows, pa.int64()))
    kept, changed = replace_text(kept, text)
    at = np.flatnonzero(changed)
    if len(at) == 0:
        return kept, None
    source_rows = rows[at]  # positions in the decision's sequences
    reasons = _pick(decision.edit_reason, source_rows)
    trace = trace_table(
        ids=kept.column(ID).take(pa.array(at, pa.int64())),
        step=ctx.step_id,
        action="edit",
        reason=[r or "edited" for r in reasons] if reasons is not None else "edited",
        value=_pick(decision.edit_value, source_rows),
        detail=_pick(decision.edit_detail, source_rows),
    )
    return kept, trace


class Filter(Step):
    """A step that keeps or removes whole records (and may edit the ones it keeps).

    Subclasses implement ``decide``; the base splits the batch, applies edits with true content
    hashes and writes the trace.
    """

    @abstractmethod
    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        """Decide for every record of the batch."""

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        return apply_decision(batch, self.decide(batch), ctx)


@dataclass
class EditDecision:
    """An editor's result: the new text for every record, and which were edited and why.

    Records whose text changed are traced as edits (reason ``edited`` when none is given)
    and rehashed, whatever ``edited`` says; ``edited`` marks the rows ``reason`` and
    ``detail`` describe.
    """

    text: Sequence[str | None] | pa.Array
    edited: np.ndarray
    reason: Sequence[str | None]
    detail: Sequence[str | None] | None = None
    signals: Mapping[str, pa.Array] = field(default_factory=dict)


class Editor(Filter):
    """A step that changes the text of records (line removal, redaction); it never removes.

    Subclasses implement ``edit``; the base traces each edit and keeps ``content_sha256`` the
    hash of the stored text (the hash at ingest stays in ``source_content_sha256``).
    """

    @abstractmethod
    def edit(self, batch: pa.RecordBatch) -> EditDecision:
        """Return the new texts and which records changed."""

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        return edit_as_decision(self.edit(batch), batch.num_rows)


def edit_as_decision(edit: EditDecision, n: int) -> FilterDecision:
    """An editor's result as a decision that keeps every record."""
    return FilterDecision(
        keep=np.ones(n, dtype=bool),
        reason=[None] * n,
        signals=edit.signals,
        text=edit.text,
        edit_reason=edit.reason,
        edit_detail=edit.detail,
    )


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
        ok, coerced = fit_value(value, hints[key])
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
