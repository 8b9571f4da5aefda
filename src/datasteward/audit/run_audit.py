"""``audit``: every figure of a run into ``audit.json`` and a self-contained ``report.html``."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datasteward._version import __version__
from datasteward.audit.composition import composition
from datasteward.audit.config import AuditConfig, checked
from datasteward.audit.facts import build_facts
from datasteward.audit.lexicon import compile_lexicons, load_lexicon
from datasteward.audit.representation import Targets, representation
from datasteward.audit.rundata import RunData, columns, connect, open_run, sql_str
from datasteward.audit.samples import report_samples
from datasteward.audit.slices import dimensions, slice_impact

log = logging.getLogger(__name__)


def funnel(run: RunData, measured: dict[int, int]) -> list[dict[str, Any]]:
    """The per-step funnel of ``stats.json``, with the removals counted in ``removed/``."""
    out = []
    for s in run.steps:
        out.append({
            **s.to_json(),
            "reasons": dict(sorted(s.reasons.items(), key=lambda kv: -kv[1])),
            "removed_records_found": measured.get(s.pos, 0),
        })
    return out


def audit_run(
    run_dir: Path,
    out_dir: Path,
    cfg: AuditConfig | None = None,
    *,
    reviews: list[dict[str, Any]] | None = None,
    targets: Targets | None = None,
    releases: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """Audit a run; writes ``out_dir/audit.json`` and ``out_dir/report.html``; returns the JSON.

    ``targets``: the ``[representation]`` targets (slice -> value -> (share, tolerance)) to
    report the input and the kept set against; default: those of the recipe the run used.
    ``releases``: version -> index Parquet of the releases made from the run
    (``release.format.project.releases_of_run``), whose records are reported too."""
    from datasteward.audit.report import write_report

    cfg = cfg or AuditConfig()
    cfg.validate()
    cfg = checked(cfg)  # every slice is one SQL expression, however the config was made
    t0 = time.perf_counter()
    run = open_run(run_dir)
    if targets is None:
        targets = _run_targets(run_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".duckdb-tmp"
    # DuckDB's COPY over an existing file writes tmp_facts.parquet first, which the locked
    # connection may not: an audit run again into the same folder replaces the file itself
    (out_dir / "facts.parquet").unlink(missing_ok=True)
    con = connect(run, memory_limit=cfg.memory_limit, temp_dir=tmp,
                  writable=(out_dir / "facts.parquet",),
                  readable=tuple((releases or {}).values()))
    try:
        cols = columns(con)
        lexicons = [load_lexicon(p) for p in cfg.lexicons]
        compiled = compile_lexicons(lexicons) if lexicons else None
        fc = build_facts(con, cols, lexicons=compiled, user_slices=cfg.slices, seed=cfg.seed)
        labels = {
            (lex.slice_dimension, g.name): g.label for lex in lexicons for g in lex.groups
        }
        lex_info = {
            lex.slice_dimension: f"lexicon {lex.name} {lex.version}" for lex in lexicons
        }
        dims = dimensions(fc, labels, lex_info)
        measured = {
            int(p): int(n)
            for p, n in con.execute(
                f"SELECT _pos, count(*) FROM facts WHERE _pos < {run.kept_pos} GROUP BY 1"
            ).fetchall()
        }
        result: dict[str, Any] = {
            "audit_version": 1,
            "datasteward_version": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "run": {
                "run_id": run.run_id,
                "path": str(run.root),
                "recipe_hash": run.run_json.get("recipe_hash"),
                "records_in": run.stats.records_in,
                "kept": run.stats.kept,
                "removed": run.stats.removed,
                "quarantined": run.stats.quarantined,
                "edited": run.stats.edited,
            },
            "config": _config_json(cfg),
            "lexicons": [
                {"name": lex.name, "version": lex.version, "path": lex.path,
                 "dimension": lex.slice_dimension,
                 "groups": {g.name: {"label": g.label, "terms": len(g.terms)}
                            for g in lex.groups}}
                for lex in lexicons
            ],
            "composition": composition(con, run, fc, top=cfg.top_values,
                                       metadata_columns=cfg.metadata_columns),
            "funnel": funnel(run, measured),
            "slice_impact": slice_impact(con, run, fc, cfg, dims),
            "samples": report_samples(
                con, run, per_stratum=cfg.samples, text_chars=cfg.sample_chars
            ),
            "reviews": reviews,
            "representation": representation(con, run, fc, targets, releases),
        }
        result["facts_columns"] = {
            **{col: f"{dim}:{group}" for (dim, group), col in fc.lexicon.items()},
            **{col: name for name, col in fc.user.items()},
        }
        facets = ["source", "domain"] + (["lang"] if fc.has_lang else [])
        keep_cols = ", ".join(["id", *facets, *result["facts_columns"]])
        con.execute(
            f"COPY (SELECT {keep_cols} FROM facts) TO {sql_str(str(out_dir / 'facts.parquet'))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        result["seconds"] = round(time.perf_counter() - t0, 3)
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
    (out_dir / "audit.json").write_text(
        json.dumps(result, indent=1, default=str, ensure_ascii=False)
    )
    write_report(result, out_dir / "report.html")
    log.info("audit of %s written to %s in %.1f s", run.run_id, out_dir, result["seconds"])
    return result


def _run_targets(run_dir: Path) -> Targets:
    """The ``[representation]`` targets of the recipe snapshot the run keeps (none if absent)."""
    from datasteward.recipe.model import load_recipe
    from datasteward.runs.layout import RunLayout

    path = RunLayout(run_dir).recipe_toml
    return load_recipe(path).representation.targets if path.is_file() else {}


def _config_json(cfg: AuditConfig) -> dict[str, Any]:
    d = asdict(cfg)
    d["slices"] = [{"name": s.name, "sql": s.sql} for s in cfg.slices]
    d["lexicons"] = list(cfg.lexicons)
    return d
