"""``whatif``: re-derive one step's decision from the stored signals under other options.

A step is *sweepable* when its decision is a function of signal columns it stored on every
record it saw (kept or removed) and of the options being changed. For those, ``SWEEPS`` maps the
step name to a builder of a SQL predicate (true = the record would be removed) over the
options. Options that change what is measured (a word list, stop words, a phone region) cannot
be swept: the signal would have to be measured again. Each sweep is checked first: under the
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.audit.facts import host_sql
from datasteward.audit.rundata import RunData, connect, ident, open_run, sql_list, sql_str
from datasteward.errors import RunError, StepError


def _num(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(float(v))
    raise StepError(f"expected a number, got {v!r}")


def _gt(col: str, v: Any) -> str:
    """col > v, false for NaN/NULL (as Python's comparisons in the steps)."""
    return f"({ident(col)} > {_num(v)} AND NOT isnan({ident(col)}::DOUBLE))"


def _lt(col: str, v: Any) -> str:
    return f"({ident(col)} < {_num(v)} AND NOT isnan({ident(col)}::DOUBLE))"


def _any(parts: list[str]) -> str:
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def _length(o: Mapping[str, Any]) -> str:
    parts = []
    for key, col, cmp in (("min_words", "length_words", "<"), ("max_words", "length_words", ">"),
                          ("min_chars", "length_chars", "<"), ("max_chars", "length_chars", ">")):
        if o.get(key) is not None:
            parts.append(f"({ident(col)} {cmp} {_num(o[key])})")
    return _any(parts)


#: gopher.quality's rules: (option, signal column, comparison that removes). An option set to
#: 0 or unset turns its rule off, as in the step. The symbol ratio bounds two signals.
_GOPHER_QUALITY_RULES: tuple[tuple[str, str, Callable[[str, Any], str]], ...] = (
    ("min_doc_words", "gopher_non_symbol_words", _lt),
    ("max_doc_words", "gopher_non_symbol_words", _gt),
    ("min_avg_word_length", "gopher_avg_word_length", _lt),
    ("max_avg_word_length", "gopher_avg_word_length", _gt),
    ("max_symbol_word_ratio", "gopher_hash_ratio", _gt),
    ("max_symbol_word_ratio", "gopher_ellipsis_ratio", _gt),
    ("max_bullet_lines_ratio", "gopher_bullet_lines_ratio", _gt),
    ("max_ellipsis_lines_ratio", "gopher_ellipsis_lines_ratio", _gt),
    ("min_alpha_words_ratio", "gopher_alpha_words_ratio", _lt),
    ("min_stop_words", "gopher_stop_words", _lt),
)


def _gopher_quality(o: Mapping[str, Any]) -> str:
    return _any([cmp(col, o[key]) for key, col, cmp in _GOPHER_QUALITY_RULES if o.get(key)])


def _gopher_repetition(o: Mapping[str, Any]) -> str:
    parts = ["isnan(gopher_dup_para_frac::DOUBLE)"]  # empty text: every statistic is NaN
    for key in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
        if o.get(key):
            parts.append(_gt(f"gopher_{key}", o[key]))
    for n, t in o.get("top_n_grams") or ():
        if t:
            parts.append(_gt(f"gopher_top_{int(n)}gram_char_frac", t))
    for n, t in o.get("dup_n_grams") or ():
        if t:
            parts.append(_gt(f"gopher_dup_{int(n)}gram_char_frac", t))
    return _any(parts)


def _fineweb(o: Mapping[str, Any]) -> str:
    punct = ident("fineweb_line_punct_ratio")
    low = f"({punct} < {_num(o.get('line_punct_thr', 0.12))})"
    if o.get("line_punct_exclude_zero"):
        low = f"({low} AND {punct} <> 0)"
    return _any([
        f"isnan({punct}::DOUBLE)",
        low,
        _gt("fineweb_short_line_ratio", o.get("short_line_thr", 0.67)),
        _gt("fineweb_char_dup_ratio", o.get("char_duplicates_ratio", 0.01)),
        f"({ident('fineweb_newline_ratio')} > {_num(o.get('new_line_ratio', 0.3))})",
    ])


def _langid(o: Mapping[str, Any]) -> str:
    keep = list(o.get("keep") or ())
    min_score = float(o.get("min_score") or 0.0)
    if not keep and min_score <= 0:
        return "FALSE"
    parts = ["(lang = 'und')"]
    if keep:
        parts.append(f"(lang NOT IN (SELECT unnest({sql_list(keep)})))")
    if min_score > 0:
        parts.append(f"(lang_score < {_num(min_score)})")
    return _any(parts)


def _contamination(o: Mapping[str, Any]) -> str:
    if o.get("mode", "flag") != "remove":
        return "FALSE"
    return f"(contamination_ngrams >= {int(o.get('min_ngrams', 1))})"


def _pii(o: Mapping[str, Any]) -> str:
    if o.get("mode", "annotate") != "remove":
        return "FALSE"
    return _any([f"({ident(f'pii_{t}_count')} > 0)" for t in o.get("types") or ()])


def _c4(o: Mapping[str, Any]) -> str:
    parts = []
    if o.get("filter_lorem_ipsum", True):
        parts.append("coalesce(c4_lorem_ipsum, FALSE)")
    if o.get("filter_curly_bracket", True):
        parts.append("coalesce(c4_curly_bracket, FALSE)")
    if o.get("min_num_sentences"):
        parts.append(f"(c4_sentences < {_num(o['min_num_sentences'])})")
    return _any(parts)


@dataclass(frozen=True)
class Sweep:
    """How to re-derive a step's decision from its signals."""

    predicate: Callable[[Mapping[str, Any]], str]
    #: Options whose change needs the text measured again.
    fixed: tuple[str, ...] = ()
    #: A note shown with the result.
    note: str = ""


SWEEPS: dict[str, Sweep] = {
    "filter.length": Sweep(_length),
    "gopher.quality": Sweep(_gopher_quality, fixed=("stop_words",)),
    "gopher.repetition": Sweep(
        _gopher_repetition,
        note="only n-gram orders measured in the run (its top_n_grams/dup_n_grams) can be set",
    ),
    "fineweb.quality": Sweep(_fineweb, fixed=("stop_chars", "short_line_length")),
    "langid": Sweep(_langid, fixed=("max_chars",)),
    "contamination": Sweep(_contamination, fixed=("benchmarks", "n", "min_words")),
    "pii": Sweep(_pii, fixed=("region",),
                 note="mode = remove is swept; types may only name kinds the run measured"),
    "c4": Sweep(
        _c4,
        fixed=("remove_citations", "filter_no_terminal_punct", "min_words_per_line",
               "max_word_length", "filter_javascript", "filter_policy", "policy_substrings"),
        note="document rules only; lorem ipsum / curly bracket can be switched off, not on",
    ),
}

#: Steps that cannot be swept, and why (shown by ``whatif``).
NOT_SWEEPABLE: dict[str, str] = {
    "c4.badwords": "the decision depends on the word list (re-measure) and keep_fraction draws "
    "by a hash of the id; re-run the step instead",
    "dedup.exact": "which copy is kept depends on global order, not on a per-record signal",
    "dedup.minhash": "clusters depend on the thresholds of the LSH index; re-run the step",
    "filter.regex": "the pattern is applied to the text; no signal is stored",
    "url.blocklist": "the decision depends on the block list",
    "rights.optout": "opt-out signals are fetched, not thresholds",
    "rights.policy": "the policy is applied to licence columns; re-run `datasteward check`",
}


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


def _validated(use: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate options with the step's own options class (unknown keys, types, ranges)."""
    from datasteward.steps.base import build_options, options_to_dict
    from datasteward.steps.registry import find_step

    try:
        cls = find_step(use)
    except StepError:
        return dict(options)
    clean = {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()
             if v is not None}
    return options_to_dict(build_options(cls.Options, clean, step=use))


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
    sweep = SWEEPS.get(step.use)
    if sweep is None:
        why = NOT_SWEEPABLE.get(step.use, "no sweep is registered for it")
        raise RunError(
            f"step {step.step_id} ({step.use}) cannot be swept: {why}",
            hint="sweepable steps: " + ", ".join(sorted(SWEEPS)),
        )
    fixed = [k for k in sets if k in sweep.fixed]
    if fixed:
        raise RunError(
            f"{step.use}: option(s) {', '.join(fixed)} change what is measured; the stored "
            "signals cannot answer that",
            hint="change them in the recipe and run again",
        )
    current = _validated(step.use, step.options)
    proposed = _validated(step.use, {**step.options, **sets})
    readable = (audit_dir / "facts.parquet",) if audit_dir is not None else ()
    con = connect(run, memory_limit=memory_limit, readable=readable)
    try:
        return _compute(con, run, step.pos, sweep, current, proposed, sets, audit_dir, top, t0,
                        step_id=step.step_id, use=step.use)
    finally:
        con.close()


def _compute(con: Any, run: RunData, pos: int, sweep: Sweep, current: dict[str, Any],
             proposed: dict[str, Any], sets: Mapping[str, Any], audit_dir: Path | None,
             top: int, t0: float, *, step_id: str, use: str) -> dict[str, Any]:
    import duckdb

    from datasteward.audit.rundata import columns

    cols = columns(con)
    old_pred, new_pred = sweep.predicate(current), sweep.predicate(proposed)
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
    pred_sql = new_pred + " " + old_pred
    needed = [c for c in cols if re.search(r"\b" + re.escape(c) + r"\b", pred_sql)]
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
        "options_before": current,
        "options_after": proposed,
        "note": sweep.note,
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
