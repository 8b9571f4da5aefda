"""Read label files (CSV, JSONL, Parquet): one row per item x annotator x label, with
optional time spent, payment, timestamp and annotation round.

Bad rows are never dropped silently: an unknown item, a label outside the declared label
space, a missing field or a duplicate item x annotator goes to ``quarantined`` with its
file:line (for Parquet: file:row N).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasteward.errors import SourceError

OPTIONAL = ("time_s", "pay", "timestamp", "round", "slice")


@dataclass(frozen=True)
class LabelColumns:
    """Which column of the file holds what (defaults fit crowd-kit's task/worker/label and
    the crowd_truth_infer files' question/worker/answer when passed)."""

    item: str = "item"
    annotator: str = "annotator"
    label: str = "label"
    time_s: str | None = None
    pay: str | None = None
    timestamp: str | None = None
    round: str | None = None
    #: A column naming the item's slice (language, domain...): agreement per slice.
    slice: str | None = None


@dataclass(frozen=True)
class Quarantined:
    where: str  # file:line
    reason: str
    row: dict[str, Any]


@dataclass
class LabelSet:
    """Labels that passed, as parallel lists, and the rows that did not."""

    items: list[str] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)
    extra: dict[str, list[Any]] = field(default_factory=dict)
    where: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def frame(self) -> Any:
        """A pandas DataFrame with crowd-kit's column names (task, worker, label) + extras."""
        import pandas as pd

        cols: dict[str, list[Any]] = {
            "task": self.items,
            "worker": self.annotators,
            "label": self.labels,
        }
        cols.update(self.extra)
        return pd.DataFrame(cols)


def _rows(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            start = 2
            for row in reader:
                yield f"{path}:{start}", row
                start = reader.line_num + 1
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    yield f"{path}:{n}", {"__error__": f"not JSON ({e.msg})"}
                    continue
                yield (
                    f"{path}:{n}",
                    obj if isinstance(obj, dict) else {"__error__": "not an object"},
                )
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        for n, row in enumerate(pq.read_table(path).to_pylist(), 1):
            yield f"{path}:row {n}", row
    else:
        raise SourceError(
            f"{path}: unknown label file type {suffix!r}",
            hint="use .csv, .tsv, .jsonl or .parquet",
        )


def _parse_label(raw: Any, *, numeric: bool) -> Any:
    if numeric and isinstance(raw, str):
        return float(raw) if any(ch in raw for ch in ".eE") else int(raw)
    return raw


def read_labels(
    paths: Path | list[Path],
    columns: LabelColumns | None = None,
    *,
    label_space: Collection[Any] | None = None,
    items: Collection[str] | None = None,
    numeric: bool = False,
    into: LabelSet | None = None,
) -> LabelSet:
    """Read one or more label files. ``label_space``: the allowed labels (compared after
    parsing; None = anything); ``items``: the known item ids (None = any); ``numeric``:
    parse labels as numbers (a label that does not parse is quarantined)."""
    cols = columns or LabelColumns()
    out = into if into is not None else LabelSet()
    extra_cols = {k: getattr(cols, k) for k in OPTIONAL if getattr(cols, k)}
    for k in extra_cols:
        out.extra.setdefault(k, [])
    space = set(label_space) if label_space is not None else None
    known = set(items) if items is not None else None
    seen: dict[tuple[str, str], str] = {}
    for path in [paths] if isinstance(paths, Path) else paths:
        if not path.is_file():
            raise SourceError(f"{path}: label file not found", hint="check the path")
        for where, row in _rows(Path(path)):
            reason = _check(row, cols, extra_cols)
            label: Any = None
            if reason is None:
                try:
                    label = _parse_label(row[cols.label], numeric=numeric)
                except ValueError:
                    reason = f"label {row[cols.label]!r} is not a number"
            if reason is None and space is not None and label not in space:
                reason = f"label {label!r} is outside the label space"
            item, annotator = str(row.get(cols.item)), str(row.get(cols.annotator))
            if reason is None and known is not None and item not in known:
                reason = f"unknown item {item!r}"
            if reason is None and (item, annotator) in seen:
                reason = f"duplicate item x annotator (first at {seen[item, annotator]})"
            if reason is not None:
                out.quarantined.append(Quarantined(where, reason, dict(row)))
                continue
            seen[item, annotator] = where
            out.items.append(item)
            out.annotators.append(annotator)
            out.labels.append(label)
            out.where.append(where)
            for k, c in extra_cols.items():
                out.extra[k].append(row.get(c))
    return out


def _check(row: Mapping[str, Any], cols: LabelColumns, extra: Mapping[str, str]) -> str | None:
    if "__error__" in row:
        return str(row["__error__"])
    for name in (cols.item, cols.annotator, cols.label):
        value = row.get(name)
        if value is None or value == "":
            return f"missing {name!r}"
    for k in ("time_s", "pay"):
        c = extra.get(k)
        if c and row.get(c) not in (None, ""):
            try:
                if float(row[c]) < 0:
                    return f"negative {c!r}"
            except (TypeError, ValueError):
                return f"{c!r} is not a number: {row[c]!r}"
    return None
