"""The command line off a terminal and for scripts (issue #13, items 10, 14, 20): output that
does not wrap, ``--json`` on every command that does work, ``-v`` logging, ``audit`` without
``--out``, ``removed``, and run ids printed in full."""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_kit import invoke, make_project, run_cli, write_jsonl
from rich.console import Console

from datasteward.runs.find import newest_finished_id
from datasteward.runs.layout import RunLayout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("cli") / "proj", n=300)
    code, out, err = invoke("run", "--project", str(root), "--quiet", "--workers", "1")
    assert code == 0, out + err
    return root


def json_out(*args: str, code: int = 0) -> Any:
    """The command's stdout, which must be exactly one JSON value (nothing else on stdout)."""
    got, out, err = invoke(*args)
    assert got == code, out + err
    return json.loads(out)


# -- item 10: off a terminal, one line per message, never wrapped --------------------------


def test_an_error_off_a_terminal_is_one_unwrapped_line(tmp_path: Path) -> None:
    deep = tmp_path / ("a-project-folder-with-a-name-long-enough-to-pass-eighty-columns" * 2)
    proc = run_cli("run", "--project", str(deep))  # COLUMNS=80, stderr is a pipe
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(deep / "datasteward.toml") in lines[0]
    assert "`datasteward init DIR`" in lines[0]  # the command in the hint stays whole


def test_verbose_logs_during_a_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", n=50)
    code, out, err = invoke("-v", "run", "--project", str(root), "--quiet", "--workers", "1")
    assert code == 0, out + err
    run_id = newest_finished_id(root)
    assert f"INFO datasteward.executors.local: run {run_id}: segment 1/" in err
    code, out, err = invoke("run", "--project", str(root), "--quiet", "--workers", "1")
    assert "INFO" not in err  # without -v, no info lines


def test_run_json_is_one_object_on_stdout(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", n=70)
    got = json_out("run", "--project", str(root), "--workers", "1", "--json")
    assert got["run_id"] == newest_finished_id(root)
    assert got["stats"]["records_in"] == 70
    assert got["stats"]["kept"] + got["stats"]["removed"] == 70
    assert got["kept"] == str(RunLayout.of(root, got["run_id"]).data)
    est = json_out("run", "--project", str(root), "--estimate", "--sample", "1.0", "--json")
    assert est["projected"]["records_in"] == 70


# -- item 14: audit writes into the run's folder by default ----------------------------------


def test_audit_without_out_writes_into_the_run_and_says_where(project: Path) -> None:
    run_id = newest_finished_id(project)
    assert run_id is not None
    target = RunLayout.of(project, run_id).audit_json
    code, out, err = invoke("audit", "--project", str(project))
    assert code == 0, out + err
    assert target.is_file() and (target.parent / "report.html").is_file()
    assert f"Report: {target.parent / 'report.html'}" in out
    got = json_out("audit", "--project", str(project), "--json")
    assert got["audit_json"] == str(target) and got["run_id"] == run_id
    assert got["records"] == 300


# -- item 20: removed records, and run ids in full --------------------------------------------


def test_removed_lists_what_the_steps_removed(project: Path) -> None:
    got = json_out("removed", "--project", str(project), "--json", "--limit", "5")
    by = {(r["step"], r["reason"]): r["records"] for r in got["by_reason"]}
    # every 7th record is too short (43 of 300); every 11th repeats a text
    assert by[("s01-filter.length", "too_few_words")] == 43
    assert got["total"] == sum(by.values()) and len(got["records"]) == 5
    assert all(r["url"].startswith("https://site") for r in got["records"])
    dups = json_out(
        "removed", "--project", str(project), "--step", "dedup.exact", "--json", "--limit", "0"
    )
    assert dups["total"] == by[("s02-dedup.exact", "exact_duplicate")] > 0
    assert dups["records"] == []
    short = json_out("removed", "--project", str(project), "--reason", "too_few_words", "--json")
    assert short["total"] == 43 and {r["reason"] for r in short["records"]} == {"too_few_words"}
    code, out, _ = invoke("removed", "--project", str(project), "--limit", "3")
    assert code == 0 and "too_few_words" in out and "more (--limit)" in out


def test_status_never_cuts_a_run_id(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasteward.cli.project_cmds as cmds

    run_id = newest_finished_id(project)
    assert run_id is not None
    code, out, _ = invoke("status", "--project", str(project))  # off a terminal
    assert code == 0 and run_id in out
    narrow = Console(file=io.StringIO(), force_terminal=True, width=44, color_system=None)
    monkeypatch.setattr(cmds, "console", narrow)
    code, _, _ = invoke("status", "--project", str(project))
    assert code == 0
    table = narrow.file.getvalue()  # type: ignore[attr-defined]
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert any(f"│ {run_id} │" in line for line in rows), table


# -- item 10: --json on release, verify, takedown and fetch -----------------------------------


def test_release_verify_takedown_json(project: Path) -> None:
    rel = json_out("release", "0.1.0", "--project", str(project), "--draft", "--json")
    assert rel["version"] == "0.1.0" and Path(rel["path"]).is_dir()
    assert rel["records"] > 0 and rel["shards"] >= 1
    ver = json_out("verify", rel["path"], "--json")
    assert ver["ok"] is True and ver["problems"] == [] and ver["rows_total"] == rel["records"]
    url = "https://site1.example/p/1"
    add = json_out(
        "takedown", "add", "--project", str(project), "--url", url,
        "--requester", "J. Doe", "--reason", "privacy", "--json",
    )  # fmt: skip
    listed = json_out("takedown", "list", "--project", str(project), "--json")
    assert [t["takedown_id"] for t in listed] == [add["takedown_id"]]
    assert listed[0]["value"] == url and listed[0]["status"] == "received"
    dry = json_out("takedown", "apply", "--project", str(project), "--dry-run", "--json")
    assert dry["dry_run"] is True and dry["patches"] == []
    assert dry["matches"] and {m["takedown_id"] for m in dry["matches"]} == {add["takedown_id"]}


@pytest.fixture
def refusing_server() -> Iterator[int]:
    """A 127.0.0.1 server that answers every page with 404."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_fetch_json(tmp_path: Path, refusing_server: int) -> None:
    root = make_project(tmp_path / "p", n=0)
    data = write_jsonl(root / "data" / "docs.jsonl", 12)
    lines = data.read_text().replace("https://site", f"http://127.0.0.1:{refusing_server}/site")
    data.write_text(lines)
    assert invoke("run", "--project", str(root), "--quiet", "--workers", "1")[0] == 0
    rel = json_out("release", "1.0.0", "--project", str(root), "--draft", "--links-only", "--json")
    assert rel["links_only"] is True
    got = json_out("fetch", rel["path"], "--out", str(tmp_path / "f"), "--timeout", "5", "--json")
    assert sum(got["counts"].values()) == rel["records"]
    assert got["counts"].get("verified", 0) == 0
    assert Path(got["status"]).is_file()
