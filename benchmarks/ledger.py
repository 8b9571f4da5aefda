# ruff: noqa: T201 - a benchmark script prints its table
"""What tamper evidence costs: chained ledger writes against plain SQLAlchemy inserts.

For each database (SQLite file; PostgreSQL when DATASTEWARD_TEST_PG_URL is set, see
scripts/ci-postgres.sh), one process, one transaction per write:

* plain: ``INSERT INTO decisions`` through the same engine (WAL, busy timeout, BEGIN
  IMMEDIATE on SQLite), no event — the peer;
* ledger: ``Ledger.record_decision`` — locks the chain head, inserts, reads the row back,
  appends the hashed event, advances the head;
* finish_run: ``start_run`` + ``finish_run`` with 10 steps x 3 reasons (2 events, 42 rows);
* verify: ``Ledger.verify()`` over the whole log (recompute + replay + compare every row).

    .venv/bin/python benchmarks/ledger.py [--n 500]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from datasteward.ledger import Ledger
from datasteward.ledger.chain import utc_now
from datasteward.ledger.tables import decisions


def _stats(i: int) -> dict[str, Any]:
    steps = [
        {
            "step_id": f"s{k:02d}",
            "use": "filter.length",
            "options": {"min_words": k},
            "records_in": 1000,
            "records_out": 990,
            "removed": 10,
            "edited": 0,
            "reasons": {"a": 5, "b": 3, "c": 2},
        }
        for k in range(10)
    ]
    return {"records_in": 1000 + i, "kept": 900, "removed": 100, "cpu_seconds": 1.5, "steps": steps}


def bench(name: str, project: Path, url: str | None, n: int) -> list[tuple[str, str, float]]:
    rows = []
    with Ledger.open(project, url) as ledger:
        engine = ledger._engine
        t = time.perf_counter()
        for i in range(n):
            with engine.begin() as conn:
                conn.execute(
                    insert(decisions).values(
                        title=f"plain {i}",
                        rationale="r",
                        tradeoff=None,
                        decided_by="bench",
                        recipe_hash=None,
                        decided_at=utc_now(),
                    )
                )
        plain = n / (time.perf_counter() - t)
        with engine.begin() as conn:  # keep verify's picture clean
            conn.execute(decisions.delete())
        t = time.perf_counter()
        for i in range(n):
            ledger.record_decision(title=f"chained {i}", rationale="r", tradeoff=None, by="bench")
        chained = n / (time.perf_counter() - t)
        runs = max(1, n // 10)
        t = time.perf_counter()
        for i in range(runs):
            ledger.start_run(
                f"run-{i}",
                recipe_hash="h",
                recipe_text="",
                recipe_canonical="{}",
                datasteward_version="bench",
                executor="local",
                workers=1,
                options={},
            )
            ledger.finish_run(f"run-{i}", status="succeeded", stats=_stats(i))
        per_run = runs / (time.perf_counter() - t)
        t = time.perf_counter()
        result = ledger.verify()
        verify_s = time.perf_counter() - t
        assert result.ok, result.problem
        rows += [
            (name, "plain INSERT (peer), writes/s", plain),
            (name, "Ledger.record_decision, writes/s", chained),
            (name, "  ratio ledger / plain", chained / plain),
            (name, "start_run+finish_run (10 steps), runs/s", per_run),
            (
                name,
                f"verify, events/s ({result.checked} events, {result.rows_checked} rows)",
                result.checked / verify_s,
            ),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="writes per measurement")
    args = parser.parse_args()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        out += bench("sqlite", Path(tmp), f"sqlite:///{Path(tmp) / 'ledger.db'}", args.n)
    pg = os.environ.get("DATASTEWARD_TEST_PG_URL")
    if pg:
        import psycopg
        from sqlalchemy.engine import make_url

        admin = make_url(pg).set(drivername="postgresql").render_as_string(hide_password=False)
        db = f"ds_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{db}"')
        try:
            url = make_url(pg).set(database=db).render_as_string(hide_password=False)
            with tempfile.TemporaryDirectory() as tmp:
                out += bench("postgresql", Path(tmp), url, args.n)
        finally:
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    else:
        print("(PostgreSQL skipped: set DATASTEWARD_TEST_PG_URL, see scripts/ci-postgres.sh)")
    print(f"{'database':<11} {'measure':<62} {'value':>10}")
    for name, what, value in out:
        print(f"{name:<11} {what:<62} {value:>10.2f}")


if __name__ == "__main__":
    main()
