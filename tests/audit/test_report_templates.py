"""The audit report's markup lives only in the shared Jinja2 templates (issue 15): report.py
and svg.py prepare plain data, the templates escape it. Checked on the audit of a small real
run, with hostile strings put into every section that takes text from the data."""

from __future__ import annotations

import ast
import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import REPO

from datasteward.audit import AuditConfig, audit_run
from datasteward.audit.report import render

AUDIT_SRC = REPO / "src" / "datasteward" / "audit"
TAG = re.compile(r"<[A-Za-z/!]")
EVIL = "</td><script>alert(\"x\")</script> & 'q'"
EVIL_ESCAPED = "&lt;/td&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27;"


def _markup_strings(path: Path) -> list[tuple[int, str]]:
    """String constants and f-string pieces of ``path`` that contain an HTML tag (docstrings
    aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and TAG.search(node.value)
    ]


@pytest.mark.parametrize("module", ["report.py", "svg.py"])
def test_report_modules_build_no_markup(module: str) -> None:
    """The page, its sections, tables, records and SVG charts are templates under
    datasteward/html/templates/audit/; these modules only prepare data."""
    assert _markup_strings(AUDIT_SRC / module) == []


def _hostile(a: dict[str, Any]) -> dict[str, Any]:
    b = copy.deepcopy(a)
    c = b["composition"]
    c["pii"] = [
        {"kind": EVIL, "records_input": 2, "records_kept": 1, "found_input": 3,
         "found_kept": 1, "measured": 9}
    ]  # fmt: skip
    c["contamination"] = {
        "benchmarks": [{"benchmark": EVIL, "records_input": 1, "records_kept": 1}]
    }
    c["quarantine"] = {"records": 1, "by_source": [{"source": EVIL, "records": 1}]}
    c["duplicates"] = {
        "removed_duplicates": 1,
        "clusters": 1,
        "largest": [{"kept_id": EVIL, "step": EVIL, "size": 2, "source_uri": EVIL}],
    }
    c["sources"]["top"][0]["value"] = EVIL
    step = b["funnel"][0]
    step["step_id"] = EVIL
    step["removed_records_found"] = step["removed"] + 1  # the mismatch warning names the step
    for st in b["slice_impact"]:
        st["step_id"] = EVIL
        for d in st["dimensions"]:
            d["label"] = EVIL
            for r in d["slices"]:
                r["label"] = EVIL
    b["reviews"] = [
        {"stratum": EVIL, "n": 4, "k": 1, "rate": 0.25, "low": 0.05, "high": 0.7,
         "categories": {EVIL: 1}}
    ]  # fmt: skip
    return b


def test_every_section_escapes_hostile_data(small_run: Path, tmp_path: Path) -> None:
    a = audit_run(small_run, tmp_path, AuditConfig(samples=2, min_records=1))
    a = json.loads(json.dumps(a))  # as report.html's renderer reads it back from audit.json
    page = render(_hostile(a))
    assert "<script" not in page.lower()
    for section in ("Funnel", "Slice impact", "Composition", "Human review"):
        assert f">{section}</h2>" in page
    for heading in ("Personal information found", "Duplicate clusters",
                    "Benchmark contamination", "Quarantined input"):  # fmt: skip
        block = page.split(heading, 1)[1].split("</table>", 1)[0]
        assert EVIL_ESCAPED in block, heading
    assert f"differ from stats.json for: {EVIL_ESCAPED} (" in page
    assert f"<summary>{EVIL_ESCAPED}: table (" in page
    # the charts stay well-formed XML with the hostile labels in them (svg.py escapes them)
    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert charts
    for chart in charts:
        ET.fromstring(chart)
