"""Render ``audit.json`` as one self-contained HTML page (inline CSS and SVG, no scripts).

The page and the records are the shared Jinja2 templates ``audit/report.html`` and
``audit/record.html`` (:mod:`datasteward.html`, autoescaped); the chart and table sections are
built here. Everything that comes from the data (text, URLs, ids, sources, reasons, metadata)
is escaped (``html.escape``, the templates' ``text`` filter): a document containing
``<script>`` shows as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from datasteward.audit import svg

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d1d1f;
 background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px 60px}
header{background:#1f3a5f;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;opacity:.85}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:6px 24px;z-index:2}
nav a{margin-right:14px;color:#1f3a5f;text-decoration:none;font-weight:600}
h2{border-bottom:2px solid #1f3a5f;padding-bottom:4px;margin-top:36px}
h3{margin-top:24px}
table{border-collapse:collapse;margin:8px 0 16px;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7} td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.flag td{background:#fdebd0} tr.small td{color:#999} .flagtag{color:#b34700;font-weight:700}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}
.warn{background:#fff4e5;border-left:4px solid #e67e22;padding:8px 12px;margin:10px 0}
.note{color:#555;font-size:13px}
tr.miss td{background:#fde2e2}tr.uncertain td{background:#fff4e5}
.rec{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:8px 0}
.rec pre{white-space:pre-wrap;word-break:break-word;max-height:260px;overflow:auto;
 background:#f6f6f6;padding:8px;margin:6px 0 0;font-size:12.5px}
.prov{font-size:12px;color:#444} .prov span{margin-right:12px}
svg.chart{display:block;margin:8px 0;max-width:100%;height:auto;background:#fff}
details>summary{cursor:pointer;font-weight:600;margin:6px 0}
"""


def escape_html(v: object) -> str:
    """A value as HTML text: escaped, quotes too; None is empty."""
    return escape("" if v is None else str(v), quote=True)


_e = escape_html  # the short name this module's markup uses


def _n(v: object) -> str:
    if isinstance(v, bool) or v is None:
        return _e(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return _e(v)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1%}"


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: set[int] | None = None,
          row_class: Sequence[str] | None = None) -> str:
    """A table: the ``table`` macro of the shared template ``audit/table.html``."""
    from markupsafe import Markup

    from datasteward.html import environment

    module = environment().get_template("audit/table.html").make_module(
        {"number": lambda v: Markup(_n(v))}  # noqa: S704 - _n escapes what is not a number
    )
    return str(module.table(list(head), list(rows), numeric or set(), row_class))  # type: ignore[attr-defined]


def _facet(title: str, f: dict[str, Any] | None, *, chart: bool = True) -> str:
    if not f:
        return ""
    rows = f["top"]
    parts = [f"<h3>{_e(title)}</h3>",
             f'<p class="note">{f["distinct"]:,} distinct; the largest {len(rows)} shown.</p>']
    if chart:
        by_kept = sorted(rows[:15], key=lambda r: (-r["kept"], str(r["value"])))
        parts.append(svg.hbars([(str(r["value"]), r["kept"]) for r in by_kept],
                               title=f"{title}: kept records", color=svg.KEPT,
                               axis_label="kept records"))
    parts.append(table(
        ["value", "input records", "kept records", "kept share", "kept bytes"],
        [(r["value"], r["input"], r["kept"], _pct(r["kept"] / r["input"] if r["input"] else 0),
          _bytes(r["kept_bytes"])) for r in rows],
        numeric={1, 2},
    ))
    return "".join(parts)


def _bucket(b: dict[str, Any]) -> str:
    if b["hi"] == b["lo"]:
        return f"{b['lo']:,}"
    return f"{b['lo']:,}+" if b["hi"] is None else f"{b['lo']:,}–{b['hi']:,}"


def _distribution_chart(dist: list[dict[str, Any]], *, what: str, title: str) -> str:
    return svg.hbars([(f"{_bucket(b)} record{'s' if b['hi'] != 1 else ''}", b["values"])
                      for b in dist], title=title, axis_label=what)


def _weighty(title: str, f: dict[str, Any], *, what: str) -> str:
    """The values that carry weight (more than one record, or >= 1%), charted by name; the
    rest only counted, so that no arbitrary alphabetical "top N" of one-record values shows."""
    weighty = f["weighty"]
    records = f.get("records") or f.get("present") or 0
    shown = len(weighty)
    parts = [
        f'<p class="note">{f["distinct"]:,} distinct {_e(what)}s over {records:,} records. '
        f"{_e(what.capitalize())}s are named when they carry weight (more than one record, or at "
        f"least 1% of the records): {shown:,} do"
        + (f", the largest {len(weighty):,} below." if shown else
           f"; every {_e(what)} has a single record, so none is singled out.") + "</p>"
    ]
    parts.append(_distribution_chart(f["distribution"], what=f"{what}s",
                                     title=f"{title}: {what}s by records each"))
    if weighty:
        parts.append(svg.hbars([(str(r["value"]), r["input"]) for r in weighty[:15]],
                               title=f"{title}: records of the largest {what}s",
                               axis_label="input records"))
        parts.append(table(
            ["value", "input records", "kept records", "kept share"],
            [(r["value"], r["input"], r["kept"], _pct(r["kept"] / r["input"] if r["input"] else 0))
             for r in weighty],
            numeric={1, 2},
        ))
    return "".join(parts)


def _domains(f: dict[str, Any] | None) -> str:
    if not f:
        return ""
    return "<h3>Domains</h3>" + _weighty("Domains", f, what="domain")


def _metadata(cols: list[dict[str, Any]] | None) -> str:
    if not cols:
        return ""
    parts = ['<h3 id="metadata">Metadata</h3>',
             '<p class="note">The metadata columns chosen with <code>[audit] metadata_columns'
             "</code> or <code>--metadata-column</code>.</p>"]
    for m in cols:
        name = m["name"]
        parts.append(f"<h4>{_e(name)}</h4>")
        missing = m["records"] - m["present"]
        parts.append(f'<p class="note">{m["present"]:,} of {m["records"]:,} records have it'
                     + (f" ({missing:,} lack it)" if missing else "") + f"; {m['distinct']:,} "
                     f"distinct values; {_e(m.get('kind', ''))}.</p>")
        if not m["present"]:
            parts.append(f'<div class="warn">No record has <code>{_e(name)}</code>: it is '
                         "neither a record column nor a key of <code>metadata</code>.</div>")
            continue
        if m["kind"] == "numeric":
            h = m["histogram"]
            labels = [f"{svg.tick_label(b['lo'])}–{svg.tick_label(b['hi'])}" for b in h]
            parts.append(svg.histogram(
                labels, [("kept", svg.KEPT, [b["kept"] for b in h]),
                         ("removed", svg.REMOVED, [b["removed"] for b in h])],
                title=f"Records by {name}", x_label=name))
            r = m["range"]
            parts.append(f'<p class="note">from {_n(r["min"])} to {_n(r["max"])}, in bins of '
                         f"{_n(r['step'])}.</p>")
        else:
            what = "value" if m["kind"] == "category" else "element"
            parts.append(_weighty(name, m, what=what))
    return "".join(parts)


def _composition(c: dict[str, Any]) -> str:
    t = c["totals"]
    parts = ['<h2 id="composition">Composition</h2>', '<div class="cards">']
    for part in ("input", "kept", "removed"):
        parts.append(
            f'<div class="card">{part}<b>{t[part]["records"]:,}</b>records · '
            f'{_bytes(t[part]["bytes"])} · {t[part]["words"]:,} words</div>'
        )
    parts.append("</div>")
    u = c["unknown_rights"]
    if u["license_unknown_kept_share"] > 0 or u["consent_unknown_kept_share"] > 0:
        parts.append(
            '<div class="warn"><b>Rights not known.</b> '
            f'{_pct(u["license_unknown_kept_share"])} of the kept records '
            f'({u["license_unknown_kept"]:,}) have licence <code>unknown</code>, and '
            f'{_pct(u["consent_unknown_kept_share"])} ({u["consent_unknown_kept"]:,}) have '
            "consent <code>unknown</code>. A licence is not consent; see docs/rights.md.</div>"
        )
    parts.append("<h3>Length</h3>")
    hist = c["length_histogram"]
    labels = [f"{b['lo']:,}+" if b["hi"] is None else f"{b['lo']:,}" if b["hi"] - 1 == b["lo"]
              else f"{b['lo']:,}–{b['hi'] - 1:,}" for b in hist]
    parts.append(svg.histogram(
        labels,
        [("kept", svg.KEPT, [b["kept"] for b in hist]),
         ("removed", svg.REMOVED, [b["removed"] for b in hist])],
        title=f"Records by words ({c['words_source']})", x_label="words per record",
    ))
    rows = []
    for part, q in sorted(c["lengths"].items()):
        wq = q["words_quantiles"]
        rows.append((part, wq["p5"], wq["p25"], wq["p50"], wq["p75"], wq["p95"],
                     round(q["words_mean"], 1), q["words_max"]))
    parts.append(table(["records", "p5 words", "p25", "median", "p75", "p95", "mean", "max"],
                       rows, numeric={1, 2, 3, 4, 5, 6, 7}))
    parts.append(_facet("Sources", c["sources"]))
    if c.get("languages"):
        parts.append(_facet("Languages", c["languages"]))
    parts.append(_domains(c["domains"]))
    parts.append(_facet("Top-level domains (last label of the host)", c["tlds"], chart=False))
    r = c.get("retrieved")
    if r:
        parts.append(f"<h3>Retrieval dates</h3><p class=\"note\">{_e(r['first'])} to "
                     f"{_e(r['last'])}, per {_e(r['unit'])}.</p>")
        per = r["periods"][-40:]
        parts.append(svg.histogram([p["period"] for p in per],
                                   [("input", svg.NEUTRAL, [p["input"] for p in per]),
                                    ("kept", svg.KEPT, [p["kept"] for p in per])],
                                   title="Records by retrieval date",
                                   x_label=f"retrieved ({r['unit']})"))
    parts.append(_facet("Licences", c["licenses"]))
    parts.append(_facet("Consent", c["consent"], chart=False))
    if c.get("pii"):
        parts.append("<h3>Personal information found (PII step)</h3>")
        parts.append(table(
            ["type", "records with it (input)", "records with it (kept)", "found (input)",
             "found (kept)", "records measured"],
            [(p["kind"], p["records_input"], p["records_kept"], p["found_input"], p["found_kept"],
              p["measured"]) for p in c["pii"]], numeric={1, 2, 3, 4, 5}))
    d = c.get("duplicates")
    if d:
        parts.append(f"<h3>Duplicate clusters</h3><p class=\"note\">{d['removed_duplicates']:,} "
                     f"duplicates removed from {d['clusters']:,} clusters (largest first).</p>")
        parts.append(table(["kept copy", "step", "cluster size", "source_uri"],
                           [(x["kept_id"], x["step"], x["size"], x.get("source_uri"))
                            for x in d["largest"]], numeric={2}))
    ct = c.get("contamination")
    if ct:
        parts.append("<h3>Benchmark contamination</h3>")
        parts.append(table(["benchmark", "records overlapping (input)", "still kept"],
                           [(b["benchmark"], b["records_input"], b["records_kept"])
                            for b in ct["benchmarks"]], numeric={1, 2}))
    parts.append(_metadata(c.get("metadata")))
    qd = c.get("quarantine")
    if qd:
        parts.append(f"<h3>Quarantined input</h3><p>{qd['records']:,} unreadable records.</p>")
        parts.append(table(["source", "records"], [(x["source"], x["records"])
                                                   for x in qd["by_source"]], numeric={1}))
    return "".join(parts)


def _funnel(steps: list[dict[str, Any]]) -> str:
    parts = ['<h2 id="funnel">Funnel</h2>']
    parts.append(svg.funnel_chart([(s["step_id"], s["records_in"], s["removed"]) for s in steps]))
    rows = []
    for s in steps:
        reasons = ", ".join(f"{k}: {v:,}" for k, v in s["reasons"].items())
        rows.append((s["step_id"], s["records_in"], s["records_out"], s["removed"], s["edited"],
                     reasons, json.dumps(s["options"], sort_keys=True, default=str)))
    parts.append(table(["step", "in", "out", "removed", "edited", "reasons", "options"], rows,
                       numeric={1, 2, 3, 4}))
    bad = [s for s in steps if s["removed_records_found"] != s["removed"]]
    if bad:
        parts.append('<div class="warn">Removed records in <code>removed/</code> differ from '
                     "stats.json for: " + ", ".join(
                         f"{_e(s['step_id'])} ({s['removed_records_found']:,} vs "
                         f"{s['removed']:,})" for s in bad) + "</div>")
    return "".join(parts)


def _slices(impact: list[dict[str, Any]], cfg: dict[str, Any]) -> str:
    parts = [
        '<h2 id="slices">Slice impact</h2>',
        f'<p class="note">For each step that removed records: the share of each slice it removed, '
        f"among the records that reached the step, with {cfg['confidence']:.0%} Wilson "
        f"intervals. <span class=\"flagtag\">⚑ flagged</span>: at least {cfg['min_records']} "
        f"records reaching the step and {cfg['min_removed']} removed, a rate at least "
        f"{cfg['min_ratio']}× the overall rate, and an interval whose "
        "low end is above the overall rate. The dashed line is the overall rate (grey band: its "
        f"interval). Slices with fewer than {cfg['min_records']} records reaching the step are "
        "left out of the charts (greyed in the tables). A mention "
        "of a term is not a record about or by that group; see the lexicon's limits in "
        "docs/audit.md.</p>",
    ]
    if not impact:
        parts.append("<p>No step removed any record.</p>")
    for st in impact:
        o = st["overall"]
        parts.append(
            f"<h3>{_e(st['step_id'])}: removed {o['k']:,} of {o['n']:,} "
            f"({_pct(o['rate'])}, {_pct(o['low'])}–{_pct(o['high'])})"
            + (f' — <span class="flagtag">⚑ {st["flagged"]} flagged</span>' if st["flagged"]
               else "") + "</h3>"
        )
        for d in st["dimensions"]:
            rows = d["slices"]
            if not rows:
                continue
            title = f"{st['step_id']} — {d['label']}"
            small = [r for r in rows if r["n"] < cfg["min_records"]]
            plotted = [r for r in rows if r["n"] >= cfg["min_records"]]
            parts.append(svg.forest(
                [(r["label"], r["rate"], r["low"], r["high"], r["flagged"], r["n"])
                 for r in plotted],
                overall=(o["rate"], o["low"], o["high"]), title=title))
            if small:
                parts.append(f'<p class="note">{_e(d["label"])}: {len(small):,} slice'
                             f"{'s' if len(small) != 1 else ''} under {cfg['min_records']} "
                             "records not plotted: " + ", ".join(
                                 f"{_e(r['label'])} ({r['n']:,})" for r in small[:20])
                             + (" …" if len(small) > 20 else "") + ".</p>")
            parts.append(f"<details><summary>{_e(d['label'])}: table ({_e(d['source'])})"
                         "</summary>")
            parts.append(table(
                ["slice", "reached step", "removed", "rate", "95% low", "95% high",
                 "× overall", "flag"],
                [(r["label"], r["n"], r["k"], _pct(r["rate"]), _pct(r["low"]), _pct(r["high"]),
                  "" if r["ratio"] is None else f"{r['ratio']:.2f}",
                  "⚑" if r["flagged"] else "") for r in rows],
                numeric={1, 2}, row_class=["flag" if r["flagged"] else
                                           "small" if r["n"] < cfg["min_records"] else ""
                                           for r in rows]))
            parts.append("</details>")
    return "".join(parts)


def record_html(r: dict[str, Any]) -> str:
    """One record as HTML: its provenance, what the steps did to it, and its text (the
    ``record`` macro of the shared template ``audit/record.html``)."""
    from datasteward.html import environment

    macro = environment().get_template("audit/record.html").module.record  # type: ignore[attr-defined]
    return str(macro(r))


def _reviews(rv: list[dict[str, Any]] | None) -> str:
    if not rv:
        return ""
    parts = ['<h2 id="reviews">Human review</h2>',
             '<p class="note">Share of reviewed records judged a problem, per stratum, with 95% '
             "Wilson intervals (latest judgement per record).</p>"]
    parts.append(svg.forest(
        [(r["stratum"], r["rate"], r["low"], r["high"], False, r["n"]) for r in rv],
        overall=(0.0, 0.0, 0.0), title="Problem share among reviewed records"))
    parts.append(table(["stratum", "reviewed", "problems", "share", "95% low", "95% high",
                        "categories"],
                       [(r["stratum"], r["n"], r["k"], _pct(r["rate"]), _pct(r["low"]),
                         _pct(r["high"]), ", ".join(f"{k}: {v}" for k, v in
                                                    r["categories"].items())) for r in rv],
                       numeric={1, 2}))
    return "".join(parts)


def render(a: dict[str, Any]) -> str:
    """The report page: the shared template ``audit/report.html`` (datasteward.html). The
    chart and table sections are built here (their text escaped by :func:`escape_html`) and
    passed in as markup; the records' text is escaped by the template."""
    from markupsafe import Markup

    from datasteward.html import render as render_template

    run = a["run"]
    flagged = sum(s["flagged"] for s in a["slice_impact"])
    lex = "; ".join(f"{x['name']} {x['version']}" for x in a["lexicons"]) or "none"
    worst = sorted(
        ((st["step_id"], d["label"], r) for st in a["slice_impact"] for d in st["dimensions"]
         for r in d["slices"] if r["flagged"]),
        key=lambda t: -(t[2]["ratio"] or 0),
    )[:8] if flagged else []  # fmt: skip
    cards = [
        ("records in", _n(run["records_in"])),
        ("kept", _n(run["kept"])),
        ("removed", _n(run["removed"])),
        ("quarantined", _n(run["quarantined"])),
        ("edited", _n(run["edited"])),
        ("flagged slices", f"{flagged:,}"),
    ]
    samples = [
        {
            "head": "Kept" if s["outcome"] == "kept"
            else f"Removed by {s['step_id']}: {s['reason']}",
            "records": s["records"],
            "population": s["population"],
        }
        for s in a["samples"]
    ]  # fmt: skip
    return render_template(
        "audit/report.html",
        run=run,
        version=a["datasteward_version"],
        created_at=a["created_at"],
        lexicons=lex,
        css=Markup(CSS),  # noqa: S704 - a constant of this module
        has_reviews=bool(a.get("reviews")),
        cards=[(label, Markup(value)) for label, value in cards],  # noqa: S704 - numbers
        worst=[
            {
                "step": step,
                "dim": dim,
                "label": r["label"],
                "rate": _pct(r["rate"]),
                "ratio": f"{r['ratio']:.1f}",
                "k": f"{r['k']:,}",
                "n": f"{r['n']:,}",
            }
            for step, dim, r in worst
        ],  # fmt: skip
        funnel=Markup(_funnel(a["funnel"])),  # noqa: S704 - escaped by escape_html
        slices=Markup(_slices(a["slice_impact"], a["config"])),  # noqa: S704
        composition=Markup(_composition(a["composition"])),  # noqa: S704
        seed=a["config"]["seed"],
        samples=samples,
        reviews=Markup(_reviews(a.get("reviews"))),  # noqa: S704
        representation=a.get("representation") or [],
        seconds=float(a.get("seconds", 0)),
    ).rstrip("\n")


def write_report(a: dict[str, Any], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(a), encoding="utf-8")
    tmp.replace(path)
