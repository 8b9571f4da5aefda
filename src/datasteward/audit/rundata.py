"""A finished run as DuckDB sees it: its steps in order, its files, and the ``records`` view.

Every record of the input that was read is in ``data/`` (kept) or ``removed/`` (removed by the
step whose id starts the file name). The view ``records`` unions them by column name and adds
``_pos``: the position (in ``stats.json`` step order) of the step that removed the record, or
the number of steps for a kept record. So a record *reached* step ``k`` iff ``_pos >= k``, and
was *removed by* it iff ``_pos = k``. ``_reason`` is the reason from the trace.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasteward.errors import RunError

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

_PART = re.compile(r"^(?P<step>.+)-r\d+-\d+\.parquet$")


@dataclass(frozen=True)
class StepRef:
    pos: int
    step_id: str
    use: str
    options: dict[str, Any]
    records_in: int
    records_out: int
    removed: int
    edited: int
    reasons: dict[str, int]


@dataclass(frozen=True)
class RunData:
    root: Path
    stats: dict[str, Any]
    run_json: dict[str, Any]
    steps: tuple[StepRef, ...]
    data_files: tuple[str, ...]
    removed_files: tuple[tuple[str, int], ...]
    trace_files: tuple[str, ...]
    quarantine_files: tuple[str, ...]

    @property
    def run_id(self) -> str:
        return self.root.name

    @property
    def kept_pos(self) -> int:
        return len(self.steps)

    def step(self, key: str) -> StepRef:
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
    stats_path = root / "stats.json"
    if not stats_path.is_file():
        raise RunError(
            f"{root} has no stats.json: it is not a finished run",
            hint="finish it with `datasteward run --resume`, or name another run",
        )
    stats = json.loads(stats_path.read_text())
    run_json_path = root / "run.json"
    run_json = json.loads(run_json_path.read_text()) if run_json_path.is_file() else {}
    steps = tuple(
        StepRef(
            pos=i,
            step_id=s["step_id"],
            use=s.get("use", s["step_id"]),
            options=dict(s.get("options") or {}),
            records_in=int(s.get("records_in", 0)),
            records_out=int(s.get("records_out", 0)),
            removed=int(s.get("removed", 0)),
            edited=int(s.get("edited", 0)),
            reasons={str(k): int(v) for k, v in (s.get("reasons") or {}).items()},
        )
        for i, s in enumerate(stats.get("steps", []))
    )
    pos_of = {s.step_id: s.pos for s in steps}

    def files(part: str) -> list[Path]:
        d = root / part
        return sorted(d.glob("*.parquet")) if d.is_dir() else []

    removed: list[tuple[str, int]] = []
    for f in files("removed"):
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
        steps=steps,
        data_files=tuple(str(f) for f in files("data")),
        removed_files=tuple(removed),
        trace_files=tuple(str(f) for f in files("trace")),
        quarantine_files=tuple(str(f) for f in files("quarantine")),
    )


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_str(v) for v in values) + "]"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(run: RunData, *, memory_limit: str = "2GB", temp_dir: Path | None = None) -> (
    duckdb.DuckDBPyConnection
):
    """A DuckDB connection with the views ``records``, ``trace``, ``removals``."""
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
    return con


def columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Column name -> DuckDB type of the union of all record files."""
    rows = con.execute("DESCRIBE SELECT * FROM raw_records").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}
