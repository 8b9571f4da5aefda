"""A finished run as DuckDB sees it: its steps in order, its files, and the ``records`` view.

Every record of the input that was read is in ``data/`` (kept) or ``removed/`` (removed by the
step whose id starts the file name); the steps are the run's typed
:class:`~datasteward.runs.stats.StepStats`. The view ``records`` unions them by column name and adds
``_pos``: the position (in ``stats.json`` step order) of the step that removed the record, or
the number of steps for a kept record. So a record *reached* step ``k`` iff ``_pos >= k``, and
was *removed by* it iff ``_pos = k``. ``_reason`` is the reason from the trace.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasteward.errors import RunError
from datasteward.runs.layout import RunLayout
from datasteward.runs.stats import RunStats, StepStats

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

_PART = re.compile(r"^(?P<step>.+)-r\d+-\d+\.parquet$")


@dataclass(frozen=True)
class RunData:
    root: Path
    stats: RunStats
    run_json: dict[str, Any]
    data_files: tuple[str, ...]
    removed_files: tuple[tuple[str, int], ...]
    trace_files: tuple[str, ...]
    quarantine_files: tuple[str, ...]

    @property
    def run_id(self) -> str:
        return self.root.name

    @property
    def steps(self) -> tuple[StepStats, ...]:
        """The run's steps in funnel order (``pos`` from 0)."""
        return self.stats.steps

    @property
    def kept_pos(self) -> int:
        return len(self.steps)

    def step(self, key: str) -> StepStats:
        """A step by id (``s02-filter.length``) or by name (``filter.length``, if unique)."""
        by_id = [s for s in self.steps if s.step_id == key]
        if by_id:
            return by_id[0]
        by_use = [s for s in self.steps if s.use == key]
        if len(by_use) == 1:
            return by_use[0]
        ids = ", ".join(s.step_id for s in self.steps) or "(none)"
        if len(by_use) > 1:
            raise RunError(
                f"run {self.run_id} has {len(by_use)} `{key}` steps", hint=f"name one by id: {ids}"
            )
        raise RunError(f"run {self.run_id} has no step {key!r}", hint=f"its steps are: {ids}")


def open_run(root: Path) -> RunData:
    """Read a run's stats and list its files (nothing is loaded)."""
    layout = RunLayout(root)
    stats = RunStats.read(layout.stats_json)
    run_json = layout.read_info()
    pos_of = {s.step_id: s.pos for s in stats.steps}
    removed: list[tuple[str, int]] = []
    for f in layout.parquet(layout.removed):
        m = _PART.match(f.name)
        step_id = m.group("step") if m else None
        if step_id not in pos_of:
            # fall back to the longest step id the name starts with
            cands = [s for s in pos_of if f.name.startswith(s + "-")]
            step_id = max(cands, key=len) if cands else None
        if step_id is None:
            log.warning("removed file %s names no step of the run; ignored", f)
            continue
        removed.append((str(f), pos_of[step_id]))
    return RunData(
        root=root,
        stats=stats,
        run_json=run_json,
        data_files=tuple(str(f) for f in layout.parquet(layout.data)),
        removed_files=tuple(removed),
        trace_files=tuple(str(f) for f in layout.parquet(layout.trace)),
        quarantine_files=tuple(str(f) for f in layout.parquet(layout.quarantine)),
    )


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_str(v) for v in values) + "]"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(
    run: RunData,
    *,
    memory_limit: str = "2GB",
    temp_dir: Path | None = None,
    readable: tuple[Path, ...] = (),
    writable: tuple[Path, ...] = (),
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the views ``records``, ``trace``, ``removals``.

    The connection is locked down before it is returned (:func:`lock_down`): it reads the
    run's Parquet files and ``readable``, writes only ``writable`` (and spills to
    ``temp_dir``), loads no extension, and its settings cannot be changed. Audit slices are
    user SQL run in it.
    """
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = {sql_str(memory_limit)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {sql_str(str(temp_dir))}")
    con.execute("CREATE TEMP TABLE _files (filename VARCHAR, pos INTEGER)")
    rows = [(f, run.kept_pos) for f in run.data_files] + list(run.removed_files)
    if rows:
        con.executemany("INSERT INTO _files VALUES (?, ?)", rows)
    if run.trace_files:
        con.execute(
            "CREATE VIEW trace AS SELECT * FROM read_parquet("
            f"{sql_list(run.trace_files)}, union_by_name = true)"
        )
    else:
        con.execute(
            "CREATE VIEW trace AS SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS step, "
            "NULL::VARCHAR AS action, NULL::VARCHAR AS reason, NULL::DOUBLE AS value, "
            "NULL::DOUBLE AS threshold, NULL::VARCHAR AS dup_of, NULL::VARCHAR AS detail "
            "WHERE false"
        )
    con.execute(
        "CREATE VIEW removals AS SELECT id, step, reason, dup_of FROM trace WHERE action = 'remove'"
    )
    all_files = [f for f, _ in rows]
    if not all_files:
        raise RunError(
            f"run {run.run_id} has no output records (data/ and removed/ are empty)",
            hint="did the run read any input? see its quarantine/ and stats.json",
        )
    steps_sql = ", ".join(f"({s.pos}, {sql_str(s.step_id)})" for s in run.steps) or "(0, '')"
    con.execute(f"CREATE TEMP TABLE _steps AS SELECT * FROM (VALUES {steps_sql}) t(pos, step_id)")
    con.execute(
        "CREATE VIEW raw_records AS SELECT r.*, f.pos AS _pos FROM read_parquet("
        f"{sql_list(all_files)}, union_by_name = true, filename = true) r "
        "JOIN _files f ON r.filename = f.filename"
    )
    con.execute(
        "CREATE VIEW records AS SELECT r.*, x.reason AS _reason FROM raw_records r "
        "LEFT JOIN _steps s ON s.pos = r._pos "
        "LEFT JOIN removals x ON x.id = r.id AND x.step = s.step_id"
    )
    files = [*all_files, *run.trace_files, *run.quarantine_files, *map(str, readable),
             *map(str, writable)]
    lock_down(con, paths=files, directories=[str(temp_dir)] if temp_dir is not None else [])
    return con


def lock_down(
    con: duckdb.DuckDBPyConnection, *, paths: list[str], directories: list[str]
) -> None:
    """No file but ``paths`` (and those under ``directories``), no extension loading, and no
    setting changed afterwards (``lock_configuration``): user SQL (audit slices) runs here."""

    def both(items: list[str]) -> list[str]:  # as the views name them, and resolved
        return sorted({x for p in items for x in (str(p), str(Path(p).resolve()))})

    con.execute(f"SET allowed_paths = {sql_list(both(paths))}")
    con.execute(f"SET allowed_directories = {sql_list(both(directories))}")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")


def columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Column name -> DuckDB type of the union of all record files."""
    rows = con.execute("DESCRIBE SELECT * FROM raw_records").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}
