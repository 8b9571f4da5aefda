"""Render ``audit.json`` as one self-contained HTML page (inline CSS and SVG, no scripts).

All of the page's markup is in the shared Jinja2 templates (:mod:`datasteward.html`,
autoescaped): ``audit/report.html`` (the page), ``audit/sections.html`` (funnel, slices,
composition, metadata, reviews), ``audit/table.html`` (tables and numbers) and
``audit/record.html`` (records). This module only prepares plain data (numbers, strings, lists
and dicts) and the SVG charts (:mod:`datasteward.audit.svg`, which escapes their text for XML).
Everything that comes from the data (text, URLs, ids, sources, reasons, metadata) is escaped by
the templates' ``text`` filter (``html.escape``): a document containing ``<script>`` shows as
text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from markupsafe import Markup

from datasteward.audit import svg
from datasteward.html import environment
from datasteward.html import render as render_template

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


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1%}"


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _chart(svg_text: str) -> Markup:
    """An SVG chart of :mod:`datasteward.audit.svg` (its text escaped for XML there)."""
    return Markup(svg_text)  # noqa: S704 - built by audit/svg.py, which escapes every label


def table(
    head: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: set[int] | None = None,
    row_class: Sequence[str] | None = None,
) -> str:
    """A table: the ``table`` macro of the shared template ``audit/table.html``."""
    module = environment().get_template("audit/table.html").module
    macro = module.table  # type: ignore[attr-defined]
    return str(macro(list(head), list(rows), sorted(numeric or ()), row_class))


def _facet(title: str, f: dict[str, Any] | None, *, chart: bool = True) -> dict[str, Any] | None:
    if not f:
        return None
    rows = f["top"]
    plot = None
    if chart:
        by_kept = sorted(rows[:15], key=lambda r: (-r["kept"], str(r["value"])))
        plot = _chart(
            svg.hbars(
                [(str(r["value"]), r["kept"]) for r in by_kept],
                title=f"{title}: kept records",
                color=svg.KEPT,
                axis_label="kept records",
            )
        )
    return {
        "title": title,
        "distinct": f["distinct"],
        "shown": len(rows),
        "chart": plot,
        "rows": [
            (
                r["value"],
                r["input"],
                r["kept"],
                _pct(r["kept"] / r["input"] if r["input"] else 0),
                _bytes(r["kept_bytes"]),
            )
            for r in rows
        ],
    }


def _bucket(b: dict[str, Any]) -> str:
    if b["hi"] == b["lo"]:
        return f"{b['lo']:,}"
    return f"{b['lo']:,}+" if b["hi"] is None else f"{b['lo']:,}–{b['hi']:,}"


def _distribution_chart(dist: list[dict[str, Any]], *, what: str, title: str) -> Markup:
    return _chart(
        svg.hbars(
            [(f"{_bucket(b)} record{'s' if b['hi'] != 1 else ''}", b["values"]) for b in dist],
            title=title,
            axis_label=what,
        )
    )


def _weighty(title: str, f: dict[str, Any], *, what: str) -> dict[str, Any]:
    """The values that carry weight (more than one record, or >= 1%), charted by name; the
    rest only counted (the ``weighty`` macro of ``audit/sections.html``)."""
    weighty = f["weighty"]
    return {
        "what": what,
        "distinct": f["distinct"],
        "records": f.get("records") or f.get("present") or 0,
        "shown": len(weighty),
        "distribution_chart": _distribution_chart(f["distribution"], what=f"{what}s",
                                                  title=f"{title}: {what}s by records each"),
        "chart": _chart(svg.hbars([(str(r["value"]), r["input"]) for r in weighty[:15]],
                                  title=f"{title}: records of the largest {what}s",
                                  axis_label="input records")) if weighty else None,
        "rows": [(r["value"], r["input"], r["kept"],
                  _pct(r["kept"] / r["input"] if r["input"] else 0)) for r in weighty],
    }  # fmt: skip


def _metadata(cols: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for m in cols or []:
        name = m["name"]
        item: dict[str, Any] = {
            "name": name,
            "present": m["present"],
            "records": m["records"],
            "missing": m["records"] - m["present"],
            "distinct": m["distinct"],
            "kind": m.get("kind", ""),
            "numeric": bool(m["present"]) and m["kind"] == "numeric",
        }
        if item["numeric"]:
            h = m["histogram"]
            labels = [f"{svg.tick_label(b['lo'])}–{svg.tick_label(b['hi'])}" for b in h]
            item["chart"] = _chart(
                svg.histogram(
                    labels,
                    [
                        ("kept", svg.KEPT, [b["kept"] for b in h]),
                        ("removed", svg.REMOVED, [b["removed"] for b in h]),
                    ],
                    title=f"Records by {name}",
                    x_label=name,
                )
            )
            item["range"] = m["range"]
        elif m["present"]:
            item["weighty"] = _weighty(
                name, m, what="value" if m["kind"] == "category" else "element"
            )
        out.append(item)
    return out


def _composition(c: dict[str, Any]) -> dict[str, Any]:
    t = c["totals"]
    u = c["unknown_rights"]
    hist = c["length_histogram"]
    labels = [
        f"{b['lo']:,}+"
        if b["hi"] is None
        else f"{b['lo']:,}"
        if b["hi"] - 1 == b["lo"]
        else f"{b['lo']:,}–{b['hi'] - 1:,}"
        for b in hist
    ]
    lengths = []
    for part, q in sorted(c["lengths"].items()):
        wq = q["words_quantiles"]
        lengths.append(
            (
                part,
                wq["p5"],
                wq["p25"],
                wq["p50"],
                wq["p75"],
                wq["p95"],
                round(q["words_mean"], 1),
                q["words_max"],
            )
        )
    r = c.get("retrieved")
    retrieved = None
    if r:
        per = r["periods"][-40:]
        retrieved = {
            "first": r["first"], "last": r["last"], "unit": r["unit"],
            "chart": _chart(svg.histogram([p["period"] for p in per],
                                          [("input", svg.NEUTRAL, [p["input"] for p in per]),
                                           ("kept", svg.KEPT, [p["kept"] for p in per])],
                                          title="Records by retrieval date",
                                          x_label=f"retrieved ({r['unit']})")),
        }  # fmt: skip
    d = c.get("duplicates")
    ct = c.get("contamination")
    qd = c.get("quarantine")
    return {
        "totals": [{"part": part, "records": t[part]["records"], "size": _bytes(t[part]["bytes"]),
                    "words": t[part]["words"]} for part in ("input", "kept", "removed")],
        "unknown_rights": {
            "license_share": _pct(u["license_unknown_kept_share"]),
            "license_kept": u["license_unknown_kept"],
            "consent_share": _pct(u["consent_unknown_kept_share"]),
            "consent_kept": u["consent_unknown_kept"],
        } if u["license_unknown_kept_share"] > 0 or u["consent_unknown_kept_share"] > 0 else None,
        "length_chart": _chart(svg.histogram(
            labels,
            [("kept", svg.KEPT, [b["kept"] for b in hist]),
             ("removed", svg.REMOVED, [b["removed"] for b in hist])],
            title=f"Records by words ({c['words_source']})", x_label="words per record",
        )),
        "lengths": lengths,
        "sources": _facet("Sources", c["sources"]),
        "languages": _facet("Languages", c["languages"]) if c.get("languages") else None,
        "domains": _weighty("Domains", c["domains"], what="domain") if c["domains"] else None,
        "tlds": _facet("Top-level domains (last label of the host)", c["tlds"], chart=False),
        "retrieved": retrieved,
        "licenses": _facet("Licences", c["licenses"]),
        "consent": _facet("Consent", c["consent"], chart=False),
        "pii": [(p["kind"], p["records_input"], p["records_kept"], p["found_input"],
                 p["found_kept"], p["measured"]) for p in c.get("pii") or []],
        "duplicates": {
            "removed": d["removed_duplicates"], "clusters": d["clusters"],
            "rows": [(x["kept_id"], x["step"], x["size"], x.get("source_uri"))
                     for x in d["largest"]],
        } if d else None,
        "contamination": [(b["benchmark"], b["records_input"], b["records_kept"])
                          for b in ct["benchmarks"]] if ct else [],
        "metadata": _metadata(c.get("metadata")),
        "quarantine": {
            "records": qd["records"],
            "rows": [(x["source"], x["records"]) for x in qd["by_source"]],
        } if qd else None,
    }  # fmt: skip


def _funnel(steps: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for s in steps:
        reasons = ", ".join(f"{k}: {v:,}" for k, v in s["reasons"].items())
        rows.append(
            (
                s["step_id"],
                s["records_in"],
                s["records_out"],
                s["removed"],
                s["edited"],
                reasons,
                json.dumps(s["options"], sort_keys=True, default=str),
            )
        )
    return {
        "chart": _chart(svg.funnel_chart([(s["step_id"], s["records_in"], s["removed"])
                                          for s in steps])),
        "rows": rows,
        "bad": [{"step": s["step_id"], "found": s["removed_records_found"],
                 "removed": s["removed"]}
                for s in steps if s["removed_records_found"] != s["removed"]],
    }  # fmt: skip


def _slices(impact: list[dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
    steps = []
    for st in impact:
        o = st["overall"]
        dims = []
        for d in st["dimensions"]:
            rows = d["slices"]
            if not rows:
                continue
            small = [r for r in rows if r["n"] < cfg["min_records"]]
            plotted = [r for r in rows if r["n"] >= cfg["min_records"]]
            dims.append({
                "label": d["label"],
                "source": d["source"],
                "chart": _chart(svg.forest(
                    [(r["label"], r["rate"], r["low"], r["high"], r["flagged"], r["n"])
                     for r in plotted],
                    overall=(o["rate"], o["low"], o["high"]),
                    title=f"{st['step_id']} — {d['label']}")),
                "small": [(r["label"], r["n"]) for r in small[:20]],
                "small_count": len(small),
                "rows": [(r["label"], r["n"], r["k"], _pct(r["rate"]), _pct(r["low"]),
                          _pct(r["high"]), "" if r["ratio"] is None else f"{r['ratio']:.2f}",
                          "⚑" if r["flagged"] else "") for r in rows],
                "row_class": ["flag" if r["flagged"] else
                              "small" if r["n"] < cfg["min_records"] else "" for r in rows],
            })  # fmt: skip
        steps.append(
            {
                "step": st["step_id"],
                "k": o["k"],
                "n": o["n"],
                "rate": _pct(o["rate"]),
                "low": _pct(o["low"]),
                "high": _pct(o["high"]),
                "flagged": st["flagged"],
                "dimensions": dims,
            }
        )
    return {"config": cfg, "steps": steps}


def record_html(r: dict[str, Any]) -> str:
    """One record as HTML: its provenance, what the steps did to it, and its text (the
    ``record`` macro of the shared template ``audit/record.html``)."""
    macro = environment().get_template("audit/record.html").module.record  # type: ignore[attr-defined]
    return str(macro(r))


def _reviews(rv: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    if not rv:
        return None
    return {
        "chart": _chart(svg.forest(
            [(r["stratum"], r["rate"], r["low"], r["high"], False, r["n"]) for r in rv],
            overall=(0.0, 0.0, 0.0), title="Problem share among reviewed records")),
        "rows": [(r["stratum"], r["n"], r["k"], _pct(r["rate"]), _pct(r["low"]), _pct(r["high"]),
                  ", ".join(f"{k}: {v}" for k, v in r["categories"].items())) for r in rv],
    }  # fmt: skip


def render(a: dict[str, Any]) -> str:
    """The report page: the shared template ``audit/report.html`` (datasteward.html), given
    plain data prepared here; all markup and escaping is in the templates."""
    run = a["run"]
    flagged = sum(s["flagged"] for s in a["slice_impact"])
    lex = "; ".join(f"{x['name']} {x['version']}" for x in a["lexicons"]) or "none"
    worst = sorted(
        ((st["step_id"], d["label"], r) for st in a["slice_impact"] for d in st["dimensions"]
         for r in d["slices"] if r["flagged"]),
        key=lambda t: -(t[2]["ratio"] or 0),
    )[:8] if flagged else []  # fmt: skip
    cards = [
        ("records in", run["records_in"]),
        ("kept", run["kept"]),
        ("removed", run["removed"]),
        ("quarantined", run["quarantined"]),
        ("edited", run["edited"]),
        ("flagged slices", flagged),
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
        cards=cards,
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
        funnel=_funnel(a["funnel"]),
        slices=_slices(a["slice_impact"], a["config"]),
        composition=_composition(a["composition"]),
        seed=a["config"]["seed"],
        samples=samples,
        reviews=_reviews(a.get("reviews")),
        representation=a.get("representation") or [],
        seconds=float(a.get("seconds", 0)),
    ).rstrip("\n")


def write_report(a: dict[str, Any], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(a), encoding="utf-8")
    tmp.replace(path)
