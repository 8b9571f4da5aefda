"""Human review: draw a stratified sample of a run's records, export it, record judgements in
the ledger, and summarise them per stratum with Wilson intervals.

Strata (``by``): ``reason`` (each removal reason of each step, and ``kept``), ``source``
(outcome and source), or ``slice:DIM`` (outcome and each group of a lexicon dimension of an
audit, e.g. ``slice:identity`` with ``audit_dir``). Within a stratum the records drawn are
those with the smallest ``md5(id:seed)``: reproducible, and a larger sample extends a smaller.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datasteward.audit.rundata import RunData, connect, open_run, sql_str
from datasteward.audit.samples import fetch_records
from datasteward.audit.stats import Rate
from datasteward.errors import RecipeError, RunError

OUTCOMES = ("removed", "kept", "all")


def _strata_sql(run: RunData, by: str, audit_dir: Path | None) -> tuple[str, str]:
    """(FROM-clause addition, SQL of the stratum) for a ``by``."""
    kp = run.kept_pos
    outcome = f"CASE WHEN r._pos = {kp} THEN 'kept' ELSE 'removed' END"
    if by == "reason":
        step = " ".join(f"WHEN {s.pos} THEN {sql_str(s.step_id)}" for s in run.steps)
        step_sql = f"CASE r._pos {step} END" if step else "NULL"
        return "", (f"CASE WHEN r._pos = {kp} THEN 'kept' ELSE 'removed/' || {step_sql} || '/' "
                    "|| coalesce(r._reason, '?') END")
    if by == "source":
        return "", f"{outcome} || '/' || coalesce(r.source, '(none)')"
    if by.startswith("slice:"):
        dim = by.split(":", 1)[1]
        if audit_dir is None:
            raise RecipeError(f"--by {by} needs --audit DIR (an audit of this run)",
                              hint="run `datasteward audit --out DIR` first")
        meta = json.loads((audit_dir / "audit.json").read_text())
        if meta["run"]["run_id"] != run.run_id:
            raise RunError(f"the audit in {audit_dir} is of run {meta['run']['run_id']}")
        cols = {c: lab.split(":", 1)[1] for c, lab in meta.get("facts_columns", {}).items()
                if lab.startswith(dim + ":") and re.fullmatch(r"lx_[0-9]+", c)}
        if not cols:
            raise RecipeError(f"the audit has no slice dimension {dim!r}",
                              hint="dimensions: " + ", ".join(sorted(
                                  {v.split(":")[0] for v in meta.get("facts_columns", {}).values()}
                              )))
        facts = sql_str(str(audit_dir / "facts.parquet"))
        groups = ", ".join(f"CASE WHEN f.{c} THEN {sql_str(g)} END" for c, g in cols.items())
        join = f" JOIN read_parquet({facts}) f ON f.id = r.id"
        in_groups = f"unnest(list_filter([{groups}], lambda x: x IS NOT NULL))"
        return join, f"{outcome} || '/' || {in_groups}"
    raise RecipeError(f"unknown stratification {by!r}",
                      hint="use reason, source or slice:DIM (e.g. slice:identity)")


def draw_sample(
    run_dir: Path,
    *,
    outcome: str = "removed",
    by: str = "reason",
    per_stratum: int = 20,
    seed: int = 0,
    audit_dir: Path | None = None,
    text_chars: int = 4000,
    quotas: dict[str, int] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The items (review order) and the records (by id) of a stratified sample.
    ``quotas``: records per stratum (strata not named get none), instead of ``per_stratum``
    (``sample --stratify``: the recipe's ``[representation]`` targets)."""
    if outcome not in OUTCOMES:
        raise RecipeError(f"--outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    run = open_run(run_dir)
    con = connect(run, readable=(audit_dir / "facts.parquet",) if audit_dir is not None else ())
    try:
        join, stratum = _strata_sql(run, by, audit_dir)
        where = {"removed": f"r._pos < {run.kept_pos}", "kept": f"r._pos = {run.kept_pos}",
                 "all": "TRUE"}[outcome]
        steps = {s.pos: s.step_id for s in run.steps}
        draw = f"md5(id || ':' || {int(seed)})"
        limit = str(int(per_stratum))
        if quotas is not None:
            # a stratum is "<outcome>/<value>": a target names the value
            quoted = {k.replace(chr(39), chr(39) * 2): int(v) for k, v in quotas.items()}
            cases = " ".join(
                f"WHEN stratum = '{k}' OR ends_with(stratum, '/{k}') THEN {v}"
                for k, v in quoted.items()
            )
            limit = f"(CASE {cases} ELSE 0 END)" if cases else "0"
        rows = con.execute(
            f"SELECT id, stratum, _pos, _reason FROM (SELECT r.id, r._pos, r._reason, "
            f"{stratum} AS stratum FROM records r{join} WHERE {where}) "
            f"QUALIFY row_number() OVER (PARTITION BY stratum ORDER BY {draw}) "
            f"<= {limit} ORDER BY stratum, {draw}"
        ).fetchall()
        seen: set[str] = set()
        items = []
        for rid, st, pos, reason in rows:
            if rid in seen:
                continue
            seen.add(rid)
            kept = pos == run.kept_pos
            items.append({
                "record_id": rid, "stratum": st, "outcome": "kept" if kept else "removed",
                "step_id": None if kept else steps.get(pos), "reason": None if kept else reason,
            })
        records = fetch_records(con, [i["record_id"] for i in items], text_chars=text_chars)
    finally:
        con.close()
    return items, records


def export_sample(items: list[dict[str, Any]], records: dict[str, dict[str, Any]], path: Path,
                  *, fmt: str | None = None, title: str = "Review sample") -> str:
    """Write the sample as JSONL, CSV or HTML (by ``fmt`` or the file's suffix)."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    rows = [{**it, **{k: v for k, v in records.get(it["record_id"], {}).items()
                      if k not in ("id", "trace")},
             "trace": records.get(it["record_id"], {}).get("trace", [])} for it in items]
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        cols = ["record_id", "stratum", "outcome", "step_id", "reason", "source", "source_uri",
                "retrieved_at", "license", "consent", "text", "verdict", "category", "note"]
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k) for k in cols})
    elif fmt == "html":
        from datasteward.audit.report import CSS, escape_html, record_html

        parts = [f"<!doctype html><html><head><meta charset='utf-8'>"
                 f"<title>{escape_html(title)}</title>"
                 f"<style>{CSS}</style></head><body><main><h1>{escape_html(title)}</h1>"]
        by: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by[r["stratum"]].append(r)
        for st, rs in by.items():
            parts.append(f"<h2>{escape_html(st)} ({len(rs)})</h2>")
            parts.extend(record_html({**r, "id": r["record_id"]}) for r in rs)
        parts.append("</main></body></html>")
        path.write_text("".join(parts), encoding="utf-8")
    else:
        raise RecipeError(f"unknown export format {fmt!r}", hint="use .jsonl, .csv or .html")
    return fmt


def read_judgements(path: Path) -> Iterator[dict[str, str | None]]:
    """Judgements from a file (JSONL or CSV with record_id, verdict, category, note)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            for i, row in enumerate(csv.DictReader(f), start=2):
                yield _judgement(row, f"{path}:{i}")
        return
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError:
                raise RecipeError(f"{path}:{i} is not JSON") from None
            yield _judgement(row, f"{path}:{i}")


def _judgement(row: dict[str, Any], where: str) -> dict[str, str | None]:
    rid, verdict = row.get("record_id"), (row.get("verdict") or "").strip().lower()
    if not rid or verdict not in ("ok", "problem"):
        raise RecipeError(f"{where}: needs record_id and verdict (ok or problem)")
    return {"record_id": str(rid), "verdict": verdict,
            "category": (row.get("category") or None), "note": (row.get("note") or None)}


def _has_ledger(project: Path) -> bool:
    from datasteward.ledger import LEDGER_URL_ENV

    db = project / ".datasteward" / "ledger.db"
    return bool(os.environ.get(LEDGER_URL_ENV)) or db.is_file()


def summarise(judgements: list[dict[str, Any]], confidence: float = 0.95) -> list[dict[str, Any]]:
    """Share of problems per stratum, with Wilson intervals and the problem categories."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for j in judgements:
        by[j["stratum"]].append(j)
    out = []
    for st in sorted(by):
        js = by[st]
        k = sum(1 for j in js if j["verdict"] == "problem")
        cats = Counter(j["category"] for j in js if j["verdict"] == "problem" and j["category"])
        out.append({"stratum": st, **Rate.of(k, len(js), confidence).to_json(),
                    "categories": dict(cats.most_common())})
    return out


def review_summary(project: Path, run_id: str) -> list[dict[str, Any]] | None:
    """Per-stratum share of problems among the reviewed records of a run, or None."""
    if not _has_ledger(project):
        return None
    from datasteward.ledger import Ledger

    with Ledger.open(project, read_only=True) as ledger:
        js = ledger.latest_judgements(run_id=run_id)
    return summarise(js) if js else None
