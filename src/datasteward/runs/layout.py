"""Where a run keeps its files.

```
runs/<run-id>/
  run.json              what produced the run: recipe hash, plan (shards, steps), versions
  recipe.toml           the recipe exactly as it was
  data/*.parquet        kept records (bounded-size shards, deterministic order)
  removed/*.parquet     removed records, one file per (step, shard) that removed any
  trace/*.parquet       one row per removal or edit: id, step, action, reason, value,
                        threshold, dup_of, detail
  quarantine/*.parquet  input that could not be read: source, file, where, error, raw
  stats.json            the funnel and the costs of the run
  _SUCCESS              written last; a run without it is unfinished (resume it)
  _work/                done markers, intermediate shards and global steps' state
```
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datasteward.errors import RunError

#: The folder of a project that holds its runs: ``<project>/runs/<run-id>/``.
RUNS_DIR = "runs"
#: The names inside a run folder (use :class:`RunLayout`; no other module spells them).
RUN_JSON = "run.json"
RECIPE_TOML = "recipe.toml"
STATS_JSON = "stats.json"
SUCCESS = "_SUCCESS"
DATA_DIR = "data"
REMOVED_DIR = "removed"
TRACE_DIR = "trace"
QUARANTINE_DIR = "quarantine"
WORK_DIR = "_work"
#: Where ``datasteward audit`` keeps a run's own audit (``runs/<run>/audit/audit.json``).
AUDIT_DIR = "audit"

#: Largest data file a task writes before it starts the next one.
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("file", pa.string()),
        pa.field("where", pa.string()),
        pa.field("error", pa.string()),
        pa.field("raw", pa.binary()),
    ]
)


def runs_dir(project: str | Path) -> Path:
    """The folder that holds a project's runs."""
    return Path(project) / RUNS_DIR


@dataclass(frozen=True)
class RunLayout:
    root: Path

    @classmethod
    def of(cls, project: str | Path, run_id: str) -> RunLayout:
        """The layout of run ``run_id`` of ``project`` (which need not exist)."""
        return cls(runs_dir(project) / run_id)

    @property
    def run_id(self) -> str:
        return self.root.name

    @property
    def data(self) -> Path:
        return self.root / DATA_DIR

    @property
    def removed(self) -> Path:
        return self.root / REMOVED_DIR

    @property
    def trace(self) -> Path:
        return self.root / TRACE_DIR

    @property
    def quarantine(self) -> Path:
        return self.root / QUARANTINE_DIR

    @property
    def work(self) -> Path:
        return self.root / WORK_DIR

    @property
    def audit_json(self) -> Path:
        return self.root / AUDIT_DIR / "audit.json"

    @property
    def recipe_toml(self) -> Path:
        return self.root / RECIPE_TOML

    def step_dir(self, step_id: str) -> Path:
        """A step's private working folder (indexes of global steps), under ``_work``."""
        return self.work / "steps" / step_id

    def parquet(self, part: Path) -> list[Path]:
        """The complete Parquet files of one of the run's folders, sorted; [] if none."""
        return sorted(part.glob("*.parquet")) if part.is_dir() else []

    @property
    def data_glob(self) -> str:
        """The glob of the kept Parquet (for DuckDB's ``read_parquet``)."""
        return str(self.data / "*.parquet")

    @property
    def is_finished(self) -> bool:
        return self.success.exists()

    def read_info(self) -> dict[str, Any]:
        """What ``run.json`` records (recipe hash, start time, plan); {} if the run has none."""
        try:
            info = json.loads(self.run_json.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise RunError(
                f"cannot read {self.run_json} ({exc})",
                hint="run.json is written when a run starts; restore it or name another run",
            ) from None
        if not isinstance(info, dict):
            raise RunError(f"{self.run_json} does not hold a JSON object", hint="restore it")
        return info

    @property
    def done(self) -> Path:
        return self.work / "done"

    @property
    def run_json(self) -> Path:
        return self.root / RUN_JSON

    @property
    def stats_json(self) -> Path:
        return self.root / STATS_JSON

    @property
    def success(self) -> Path:
        return self.root / SUCCESS

    def segment_dir(self, segment: int) -> Path:
        return self.work / f"seg{segment}"

    def make(self) -> None:
        for d in (self.data, self.removed, self.trace, self.quarantine, self.done):
            d.mkdir(parents=True, exist_ok=True)

    def clean_work(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def task_name(segment: int, rank: int) -> str:
    return f"g{segment}-r{rank:05d}"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def remove_task_outputs(layout: RunLayout, name: str, segment: int) -> None:
    """Delete whatever an interrupted attempt of a task left, so it can run again cleanly."""
    dirs: Iterable[Path] = (
        layout.data,
        layout.removed,
        layout.trace,
        layout.quarantine,
        layout.segment_dir(segment + 1),
    )
    for d in dirs:
        if d.exists():
            for p in d.glob(f"*{name}*"):
                p.unlink()


class RotatingParquetWriter:
    """Writes batches to ``<dir>/<prefix>-NNN.parquet``, starting a new file past a size.

    Files are written under a temporary name and renamed when closed, so a file with the final
    name is always complete.
    """

    def __init__(
        self, directory: Path, prefix: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> None:
        self.directory = directory
        self.prefix = prefix
        self.max_bytes = max_bytes
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._part = 0
        self._bytes_in_file = 0
        self._tmp: Path | None = None
        self.files: list[Path] = []
        self.rows = 0
        self.bytes_written = 0

    def _open(self, schema: pa.Schema) -> pq.ParquetWriter:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{self.prefix}-{self._part:03d}.parquet"
        self._tmp = final.with_name(final.name + ".tmp")
        self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")
        self._schema = schema
        self._bytes_in_file = 0
        return self._writer

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if (
            self._writer is not None
            and self._schema is not None
            and not batch.schema.equals(self._schema)
        ):
            # a step added columns mid-shard (should not happen) or types changed: new file
            self._close_file()
        writer = self._writer if self._writer is not None else self._open(batch.schema)
        writer.write_batch(batch)
        self.rows += batch.num_rows
        self._bytes_in_file += batch.nbytes
        if self._bytes_in_file >= self.max_bytes:
            self._close_file()

    def _close_file(self) -> None:
        if self._writer is None or self._tmp is None:
            return
        self._writer.close()
        final = self._tmp.with_name(self._tmp.name[: -len(".tmp")])
        os.replace(self._tmp, final)
        self.bytes_written += final.stat().st_size
        self.files.append(final)
        self._writer = None
        self._tmp = None
        self._part += 1

    def close(self) -> None:
        self._close_file()
