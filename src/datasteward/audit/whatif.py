"""``whatif``: re-derive one step's decision from the stored signals under other options.

A step is *sweepable* when its decision is a function of signal columns it stored on every
record it saw (kept or removed) and of the options being changed. The step says so itself: its
class's ``whatif_predicate`` gives the SQL predicate (true = the record would be removed) under
its options, ``whatif_fixed`` names the options that change what is measured (a word list, stop
words, a phone region: the signal would have to be measured again) and ``whatif_unsupported``
why a step cannot be swept. Steps are found through the step registry, so a user's own step
(``package.module:Class``) is swept like a built-in one. Each sweep is checked first: under the
run's own options the predicate must reproduce the run's decisions (reported as
``reproduced``).

Only the records that reached the step are affected. For each slice: ``lost`` = records kept
by the run that the new options would remove (exact: they leave the dataset), ``regained`` =
records this step removed that the new options would pass (an upper bound of what the dataset
gains: later steps never saw them), and ``newly_removed`` = records the new options remove
that the step passed (some of which a later step removed anyway).
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasteward.audit.facts import host_sql
from datasteward.audit.rundata import RunData, connect, open_run, sql_str
from datasteward.errors import RunError, StepError
from datasteward.steps.base import options_to_dict

if TYPE_CHECKING:
    from datasteward.steps.base import Step
    from datasteward.steps.sweep import WhatIf


def sweepable_steps() -> list[str]:
    """The built-in steps whose class gives a ``whatif_predicate``."""
    from datasteward.steps.base import Step
    from datasteward.steps.registry import BUILTIN_STEPS, find_step

    out = []
    for name in sorted(BUILTIN_STEPS):
        try:
            cls = find_step(name)
        except StepError:  # an optional dependency is missing
            continue
        if cls.whatif_predicate is not Step.whatif_predicate:
            out.append(name)
    return out


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are TOML (``30``, ``0.5``, ``["en"]``, ``true``) or text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise StepError(f"--set {item!r} must be key=value", hint="e.g. --set min_words=30")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        out[key.strip()] = value
    return out


def _step(use: str, options: Mapping[str, Any]) -> Step:
    """The step with these options, validated by its own options class (unknown keys, types,
    ranges)."""
    from datasteward.steps.base import build_options
    from datasteward.steps.registry import find_step

    cls = find_step(use)
    clean = {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()
             if v is not None}
    return cls(build_options(cls.Options, clean, step=use))


def _predicate(step: Step, step_id: str) -> WhatIf:
    predicate = step.whatif_predicate()
    if predicate is None:
        raise RunError(
            f"step {step_id} ({step.name or type(step).__name__}) cannot be swept: "
            f"{step.whatif_unsupported}",
            hint="sweepable steps: " + ", ".join(sweepable_steps()),
        )
    return predicate


def whatif(
    run_dir: Path,
    step_key: str,
    sets: Mapping[str, Any],
    *,
    audit_dir: Path | None = None,
    top: int = 25,
    memory_limit: str = "2GB",
) -> dict[str, Any]:
    """Gains and losses per slice if one step had other options (see the module docstring)."""
    t0 = time.perf_counter()
    run = open_run(run_dir)
    step = run.step(step_key)
    before = _step(step.use, step.options)
    old = _predicate(before, step.step_id)
    fixed = [k for k in sets if k in before.whatif_fixed]
    if fixed:
        raise RunError(
            f"{step.use}: option(s) {', '.join(fixed)} change what is measured; the stored "
            "signals cannot answer that",
            hint="change them in the recipe and run again",
        )
    after = _step(step.use, {**step.options, **sets})
    new = _predicate(after, step.step_id)
    readable = (audit_dir / "facts.parquet",) if audit_dir is not None else ()
    con = connect(run, memory_limit=memory_limit, readable=readable)
    try:
        return _compute(con, run, step.pos, before, after, old, new, sets, audit_dir, top, t0,
                        step_id=step.step_id, use=step.use)
    finally:
        con.close()


def _compute(con: Any, run: RunData, pos: int, before: Step, after: Step, old: WhatIf,
             new: WhatIf, sets: Mapping[str, Any], audit_dir: Path | None,
             top: int, t0: float, *, step_id: str, use: str) -> dict[str, Any]:
    import duckdb

    from datasteward.audit.rundata import columns

    cols = columns(con)
    old_pred, new_pred = old.sql, new.sql
    needed = list(dict.fromkeys(old.signals + new.signals))
    missing = [c for c in needed if c not in cols]
    if missing:
        raise RunError(
            f"step {step_id} ({use}): the run lacks signal(s) the sweep needs: "
            + ", ".join(missing),
            hint="the step stores its signals on every record; was it run by this version, "
            "with these kinds or n-gram orders measured?",
        )
    k = run.kept_pos
    dims = ["source", "domain"] + (["lang"] if "lang" in cols else [])
    facts_cols: list[str] = []
    join = ""
    labels: dict[str, str] = {}
    if audit_dir is not None:
        facts, labels = _audit_facts(audit_dir, run.run_id)
        fc = [c[0] for c in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({sql_str(str(facts))})").fetchall()]
        # only the audit's own column names (lx_N, us_N) are pasted into SQL
        facts_cols = [c for c in fc if re.fullmatch(r"(?:lx|us)_[0-9]+", c)]
        join = f" LEFT JOIN read_parquet({sql_str(str(facts))}) f ON f.id = r.id"
    if join:  # the audit computed the facets already
        facets = ["f.source AS source", "f.domain AS domain",
                  *(["f.lang AS lang"] if "lang" in cols else [])]
    else:
        facets = ["coalesce(r.source, '(none)') AS source",
                  f"coalesce({host_sql('r.source_uri')}, '(no host)') AS domain",
                  *(["coalesce(r.lang, '(none)') AS lang"] if "lang" in cols else [])]
    sel = [
        *facets,
        f"r._pos = {pos} AS was_removed",
        f"r._pos = {k} AS was_kept",
        f"coalesce({new_pred}, FALSE) AS now_removed",
        f"coalesce({old_pred}, FALSE) AS pred_old",
        *[f"coalesce(f.{c}::VARCHAR, 'false') AS {c}" for c in facts_cols],
    ]
    try:
        con.execute(
            f"CREATE TEMP TABLE w AS SELECT {', '.join(sel)} FROM raw_records r{join} "
            f"WHERE r._pos >= {pos}"
        )
    except duckdb.BinderException as exc:
        raise RunError(
            f"step {step_id} ({use}): the run lacks a signal the sweep needs: "
            f"{str(exc).splitlines()[0]}",
            hint="the step stores its signals on every record; was it run by this version?",
        ) from None
    agg = ("count(*) AS reached, count(*) FILTER (WHERE was_removed) AS removed, "
           "count(*) FILTER (WHERE now_removed) AS would_remove, "
           "count(*) FILTER (WHERE was_kept AND now_removed) AS lost, "
           "count(*) FILTER (WHERE was_removed AND NOT now_removed) AS regained, "
           "count(*) FILTER (WHERE NOT was_removed AND now_removed) AS newly_removed")

    def rows(sql: str) -> list[dict[str, Any]]:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    overall = rows(f"SELECT {agg}, count(*) FILTER (WHERE pred_old = was_removed) AS reproduced "
                   "FROM w")[0]
    slices: list[dict[str, Any]] = []
    for d in dims:
        slices.append({"dimension": {"lang": "language"}.get(d, d), "slices": rows(
            f"SELECT {d} AS slice, {agg} FROM w GROUP BY 1 "
            f"ORDER BY (lost + regained + newly_removed) DESC, reached DESC LIMIT {int(top)}")})
    for c in facts_cols:
        dim, _, group = labels.get(c, c).partition(":")
        part = rows(f"SELECT {agg} FROM w WHERE {c} = 'true'") if c.startswith("lx_") else []
        if c.startswith("lx_"):
            slices.append({"dimension": dim, "slices": [{"slice": group, **part[0]}]})
        else:
            slices.append({"dimension": labels.get(c, c), "slices": rows(
                f"SELECT {c} AS slice, {agg} FROM w GROUP BY 1 ORDER BY reached DESC "
                f"LIMIT {int(top)}")})
    merged: dict[str, dict[str, Any]] = {}
    for s in slices:
        merged.setdefault(s["dimension"], {"dimension": s["dimension"], "slices": []})
        merged[s["dimension"]]["slices"] += s["slices"]
    return {
        "run_id": run.run_id,
        "step_id": step_id,
        "use": use,
        "set": dict(sets),
        "options_before": options_to_dict(before.options),
        "options_after": options_to_dict(after.options),
        "note": after.whatif_note,
        "signals": needed,
        "overall": overall,
        "reproduced_share": (
            overall["reproduced"] / overall["reached"] if overall["reached"] else 1.0
        ),
        "slices": list(merged.values()),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _audit_facts(audit_dir: Path, run_id: str) -> tuple[Path, dict[str, str]]:
    import json

    facts = audit_dir / "facts.parquet"
    meta = audit_dir / "audit.json"
    if not facts.is_file() or not meta.is_file():
        raise RunError(f"{audit_dir} holds no audit (facts.parquet, audit.json)",
                       hint="run `datasteward audit --out DIR` first")
    a = json.loads(meta.read_text())
    if a["run"]["run_id"] != run_id:
        raise RunError(f"the audit in {audit_dir} is of run {a['run']['run_id']}, not {run_id}")
    return facts, dict(a.get("facts_columns", {}))
