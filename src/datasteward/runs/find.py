"""Which run: the one rule every command uses, and reading a run's kept Parquet with DuckDB.

A run lives in ``<project>/runs/<run-id>/``; it is *finished* when it has its ``_SUCCESS`` file
(written last, after ``run.json`` and ``stats.json``). Without ``--run``, every command
(status, inspect, audit, whatif, sample, check, notice, release, takedown...) uses
:func:`find_run`: the newest finished run **by the start time its run.json records**
(``started_at``), then by run id. File modification times never decide: resuming an older run,
or copying a run folder, rewrites them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from datasteward.errors import RunError
from datasteward.runs.layout import RunLayout, runs_dir

log = logging.getLogger(__name__)


def started_at(layout: RunLayout) -> str | None:
    """The ISO-8601 start time a run recorded in its run.json; None if it has none.

    An unreadable run.json is logged and treated as having no start time.
    """
    try:
        info = layout.read_info()
    except RunError as exc:
        log.warning("run %s: %s; it counts as the oldest run", layout.run_id, exc.message)
        return None
    value = info.get("started_at")
    return str(value) if value else None


def finished_runs(project_dir: str | Path) -> list[Path]:
    """The finished runs of a project (with ``_SUCCESS``), oldest first.

    Ordered by the start time their run.json records, then by id; a run without a recorded
    start time (no or unreadable run.json) sorts before every run that has one.
    """
    base = runs_dir(project_dir)
    if not base.is_dir():
        return []
    keyed = [
        (started_at(RunLayout(d)) or "", d.name, d)
        for d in base.iterdir()
        if d.is_dir() and RunLayout(d).is_finished
    ]
    return [d for _, _, d in sorted(keyed)]


def find_run(project_dir: str | Path, run: str | None = None) -> Path:
    """The folder of run ``run`` (an id under ``runs/`` or a path), or the newest finished run.

    A named run is returned as it is, finished or not: callers that need a finished run (a
    release) check :attr:`RunLayout.is_finished` and say so.
    """
    base = runs_dir(project_dir)
    if run is not None:
        path = Path(run)
        if not path.is_dir():
            path = base / run
        if not path.is_dir():
            raise RunError(
                f"no run `{run}` under {base}",
                hint="`datasteward status` lists the runs; omit --run to use the newest finished",
            )
        return path
    runs = finished_runs(project_dir)
    if not runs:
        raise RunError(
            f"no finished run in {base}",
            hint="run the recipe first with `datasteward run` (a finished run has _SUCCESS)",
        )
    return runs[-1]


def newest_finished_id(project_dir: str | Path) -> str | None:
    """The id of the run :func:`find_run` picks by default, or None if no run finished."""
    runs = finished_runs(project_dir)
    return runs[-1].name if runs else None


def kept_glob(run_dir: str | Path) -> str:
    """The glob of a run's kept Parquet, quoted for SQL; raises if there is none."""
    layout = RunLayout(Path(run_dir))
    if not layout.parquet(layout.data):
        raise RunError(
            f"run {run_dir} has no kept records (no {layout.data_glob})",
            hint="is this a run folder? a run that removed everything has nothing to check",
        )
    return layout.data_glob.replace("'", "''")


def query(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def columns(run_dir: str | Path) -> set[str]:
    rows = query(
        f"DESCRIBE SELECT * FROM read_parquet('{kept_glob(run_dir)}', union_by_name = true)"
    )
    return {str(r[0]) for r in rows}
