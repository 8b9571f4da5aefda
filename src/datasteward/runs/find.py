"""Find a run's folder and read its kept Parquet with duckdb.

A run lives in ``<project>/runs/<run-id>/`` with its kept records in ``data/*.parquet``; a run
that finished has a ``_SUCCESS`` file. Without ``--run``, the newest finished run is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasteward.errors import RunError


def find_run(project_dir: str | Path, run: str | None = None) -> Path:
    """The folder of run ``run`` (an id or a path), or the newest finished run."""
    project = Path(project_dir)
    if run is not None:
        candidate = Path(run)
        if candidate.is_dir():
            return candidate
        candidate = project / "runs" / run
        if candidate.is_dir():
            return candidate
        raise RunError(
            f"no run `{run}` under {project / 'runs'}",
            hint="list runs with `ls runs/` or omit --run to use the newest finished run",
        )
    runs_dir = project / "runs"
    finished = (
        [p for p in runs_dir.glob("*/") if (p / "_SUCCESS").exists()] if runs_dir.is_dir() else []
    )
    if not finished:
        raise RunError(
            f"no finished run in {runs_dir}",
            hint="run `datasteward run` first (a finished run has a _SUCCESS file)",
        )
    return max(finished, key=lambda p: ((p / "_SUCCESS").stat().st_mtime, p.name))


def kept_glob(run_dir: str | Path) -> str:
    """The glob of a run's kept Parquet, quoted for SQL; raises if there is none."""
    data = Path(run_dir) / "data"
    if not any(data.glob("*.parquet")):
        raise RunError(
            f"run {run_dir} has no kept records (no {data}/*.parquet)",
            hint="is this a run folder? a run that removed everything has nothing to check",
        )
    return str(data / "*.parquet").replace("'", "''")


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
