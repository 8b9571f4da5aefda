"""Benchmark test sets as the recipe names them, and reading their items.

A benchmark entry in the recipe::

    [[steps]]
    use = "contamination"
    benchmarks = [
      { name = "gsm8k", path = "bench/gsm8k/test.jsonl", fields = ["question", "answer"] },
      { name = "humaneval", path = "bench/HumanEval.jsonl.gz", fields = ["prompt"],
        id_field = "task_id" },
      { name = "tweeteval-hate", path = "bench/hate/test_text.txt", format = "text" },
    ]

``path`` is relative to the recipe folder. ``format`` is ``jsonl`` (optionally ``.gz``),
``csv``, ``parquet`` or ``text`` (one item per line); when omitted it follows the file's
extension. ``fields`` names the text fields of an item (not used for ``text``). ``id_field``
names the field that identifies an item; without it an item is known by its 0-based row
number in the file.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from datasteward.errors import StepError

FORMATS = ("jsonl", "csv", "parquet", "text")
_KEYS = {"name", "path", "format", "fields", "id_field"}


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark test set named in the recipe."""

    name: str
    path: str
    format: str
    fields: tuple[str, ...]
    id_field: str | None = None


@dataclass(frozen=True)
class Item:
    """One benchmark item: its id and its text fields."""

    id: str
    texts: tuple[str, ...]


def _infer_format(path: str) -> str | None:
    p = path.lower().removesuffix(".gz")
    for ext, fmt in (
        (".jsonl", "jsonl"),
        (".json", "jsonl"),
        (".ndjson", "jsonl"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".txt", "text"),
    ):
        if p.endswith(ext):
            return fmt
    return None


def parse_spec(entry: Mapping[str, Any], *, position: int) -> BenchmarkSpec:
    """Check one ``benchmarks`` entry of the recipe and build its spec."""
    where = f"step `contamination`: benchmarks[{position}]"
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise StepError(
            f"{where} has unknown keys {unknown}", hint="its keys are: " + ", ".join(sorted(_KEYS))
        )
    name, path = entry.get("name"), entry.get("path")
    if not isinstance(name, str) or not name:
        raise StepError(f"{where} needs a `name` (a string)")
    if not isinstance(path, str) or not path:
        raise StepError(f"{where} (`{name}`) needs a `path` (a string)")
    fmt = entry.get("format") or _infer_format(path)
    if fmt not in FORMATS:
        raise StepError(
            f"{where} (`{name}`): unknown format {fmt!r} for {path}",
            hint="set format to one of " + ", ".join(FORMATS),
        )
    fields = entry.get("fields", [])
    if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
        raise StepError(f"{where} (`{name}`): `fields` must be a list of field names")
    if fmt != "text" and not fields:
        raise StepError(
            f"{where} (`{name}`): `fields` is required for format {fmt}",
            hint='name the text fields of an item, e.g. fields = ["question", "answer"]',
        )
    id_field = entry.get("id_field")
    if id_field is not None and not isinstance(id_field, str):
        raise StepError(f"{where} (`{name}`): `id_field` must be a field name")
    return BenchmarkSpec(name=name, path=path, format=fmt, fields=tuple(fields), id_field=id_field)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - returned


def _rows(spec: BenchmarkSpec, path: Path) -> Iterator[Mapping[str, Any]]:
    if spec.format == "jsonl":
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise StepError(
                        f"step `contamination`: benchmark `{spec.name}`: {path} line {lineno} "
                        f"is not JSON ({exc})",
                        hint="each line of a jsonl benchmark must be one JSON object",
                    ) from None
                if not isinstance(row, dict):
                    raise StepError(
                        f"step `contamination`: benchmark `{spec.name}`: {path} "
                        f"line {lineno} is not a JSON object"
                    )
                yield row
    elif spec.format in ("csv", "parquet"):
        if spec.format == "csv":
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(path)
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        yield from table.to_pylist()
    else:  # text
        with _open_text(path) as fh:
            for line in fh:
                yield {"text": line.rstrip("\r\n")}


def read_items(spec: BenchmarkSpec, recipe_dir: Path) -> list[Item]:
    """Every item of a benchmark, with clear errors for missing files and fields."""
    path = recipe_dir / spec.path
    if not path.is_file():
        raise StepError(
            f"step `contamination`: benchmark `{spec.name}` file not found: {path}",
            hint="paths in `benchmarks` are relative to the recipe folder",
        )
    fields = spec.fields if spec.format != "text" else ("text",)
    items: list[Item] = []
    for row_no, row in enumerate(_rows(spec, path)):
        missing = [f for f in fields if f not in row]
        if missing:
            raise StepError(
                f"step `contamination`: benchmark `{spec.name}` row {row_no} of {path} has no "
                f"field {missing[0]!r}",
                hint="its fields are: " + ", ".join(sorted(map(str, row))),
            )
        item_id = str(row.get(spec.id_field, row_no)) if spec.id_field else str(row_no)
        texts = tuple("" if row[f] is None else str(row[f]) for f in fields)
        items.append(Item(id=item_id, texts=texts))
    return items
