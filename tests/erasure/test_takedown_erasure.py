"""Issue 19: a takedown takes the content down, provably — on the real C4 sample.

Each test copies one project made once per module: the C4 sample run, audited, released as
1.0.0 and sampled for review. Requests are made by URL, as a person or a publisher would.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from erasure_kit import ds, make_c4_project, record, scan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_c4_project(tmp_path_factory.mktemp("c4erase"))


@pytest.fixture
def project(base: Path, tmp_path: Path) -> Path:
    # the source input stays where the recipe names it (outside the project folder)
    dst = tmp_path / "proj"
    shutil.copytree(base, dst)
    return dst


def _in_report(project: Path) -> str:
    """The id of a released record whose text the audit report shows."""
    report = (project / "audit" / "report.html").read_text("utf-8")
    ids = pq.read_table(project / "releases" / "1.0.0" / "data", columns=["id"])["id"]
    for rid in ids.to_pylist():
        if re.search(re.escape(rid) + r"(?!\w)", report):
            return str(rid)
    raise AssertionError("the report shows no released record")


def _in_sample(project: Path) -> str:
    first = (project / "samples" / "kept.jsonl").read_text("utf-8").splitlines()[0]
    return str(json.loads(first)["record_id"])


def _policy(project: Path, tid: int) -> object:
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        return ledger.takedown_policy(tid)


def test_privacy_and_legal_takedowns_erase_everywhere_provably(project: Path) -> None:
    rel = project / "releases" / "1.0.0"
    a, b = record(rel, _in_report(project)), record(rel, _in_sample(project))
    before_a, before_b = scan(project, a), scan(project, b)
    # the text is really there before: release, run, report (a), review sample (b)
    assert any(p.startswith("runs/") and "text" in w for p, w in before_a.items())
    assert any(p.startswith("releases/1.0.0/data/") for p in before_a)
    assert "audit/report.html" in before_a
    assert {"samples/kept.jsonl", "samples/kept.html"} <= set(before_b)

    p = str(project)
    ds(
        "takedown",
        "add",
        "--kind",
        "privacy",
        "--url",
        a["source_uri"],
        "--requester",
        "A. Person <a@example.org>",
        "--reason",
        "my personal data",
        "--project",
        p,
    )
    ds(
        "takedown",
        "add",
        "--kind",
        "legal",
        "--url",
        b["source_uri"],
        "--requester",
        "Court <c@example.org>",
        "--reason",
        "court order",
        "--project",
        p,
    )
    out = json.loads(ds("takedown", "apply", "--project", p, "--json").stdout)
    assert out["policies"] == {"1": "erase", "2": "erase"}
    assert out["erased"]["1"]["withdrawn_releases"] == {"1.0.0": "1.0.1"}

    # the proof, both datasteward's and this test's own
    for tid in ("1", "2"):
        proof = ds("takedown", "verify", tid, "--project", p, "--json")
        assert json.loads(proof.stdout)["ok"] is True
    assert scan(project, a) == {}
    assert scan(project, b) == {}

    # inspect and status tell the truth: the request, the decision, the patch, what was erased
    shown = ds("inspect", a["id"], "--project", p).stdout
    assert "taken down and erased" in shown and "#1 (privacy" in shown
    assert "decision erase" in shown and "1.0.0 → 1.0.1" in shown and "audit/report.html" in shown
    info = json.loads(ds("inspect", b["id"], "--project", p, "--json").stdout)
    (t,) = info["erasure"]
    assert (t["takedown_id"], t["kind"], t["decision"]) == (2, "legal", "erase")
    assert t["withdrawn_releases"] == ["1.0.0"] and t["erasure_finished"]
    assert "samples/kept.jsonl" in t["files_rewritten"]
    assert b["text"][:40] not in json.dumps(info) and b["source_uri"] not in json.dumps(info)
    status = json.loads(ds("status", "--project", p, "--json").stdout)["takedowns"]
    assert status["records_erased"] == 2 and status["withdrawn_releases"] == ["1.0.0"]
    assert status["unfinished_erasures"] == [] and status["by_status"] == {"notified": 2}

    # the tombstone: no data files; status, card and Croissant say why; verify says withdrawn
    assert not list(rel.rglob("*.parquet"))
    status = json.loads((rel / "status.json").read_text("utf-8"))
    assert status["status"] == "withdrawn"
    w = status["withdrawal"]
    assert w["replacement"] == "1.0.1" and set(w["kinds"]) == {"privacy"}
    assert "erase" in w["decision"] and w["withdrawn_at"]
    assert "withdrawn" in (rel / "README.md").read_text("utf-8").lower()
    croissant = json.loads((rel / "croissant.json").read_text("utf-8"))
    assert croissant["distribution"] == [] and "Withdrawn" in croissant["description"]
    verify = ds("verify", str(rel), process=True)  # the real entry point, as a user runs it
    assert verify.returncode == 0 and "withdrawn" in verify.stdout

    # readers that bypass datasteward find no data; datasteward.load says why
    import datasteward
    from datasteward.errors import DeprecatedDatasetError

    with pytest.raises(DeprecatedDatasetError, match="withdrawn"):
        datasteward.load(rel)
    pd = pytest.importorskip("pandas", reason="pandas reads the old directory as a user would")
    with pytest.raises((FileNotFoundError, OSError, ValueError)):
        pd.read_parquet(rel / "data")
    hf = pytest.importorskip("datasets", reason="Hugging Face datasets reads it as a hub would")
    with pytest.raises(Exception, match="(?i)data ?files|unable to find|doesn't contain"):
        hf.load_dataset(str(rel))

    # every other record is still there, in a release that verifies
    patch = project / "releases" / "1.0.1"
    assert ds("verify", str(patch), "--full").returncode == 0
    old_ids = set(pq.read_table(base_release_ids(project)).column("id").to_pylist())
    new_ids = set(pq.read_table(patch / "data", columns=["id"]).column("id").to_pylist())
    assert new_ids == old_ids - {a["id"], b["id"]}


def base_release_ids(project: Path) -> Path:
    """1.0.0's ids, read from the run the release was made from (its data is gone)."""
    run = sorted((project / "runs").iterdir())[-1]
    return run / "data"


def test_each_rewrite_is_recorded_with_hashes_and_never_the_text(project: Path) -> None:
    from datasteward.ledger import Ledger

    a = record(project / "releases" / "1.0.0", _in_report(project))
    ds(
        "takedown",
        "add",
        "--kind",
        "privacy",
        "--url",
        a["source_uri"],
        "--requester",
        "A",
        "--reason",
        "personal data",
        "--project",
        str(project),
    )
    ds("takedown", "apply", "--project", str(project))
    with Ledger.open(project) as ledger:
        rows = ledger.takedown_erasures(1)
        assert ledger.verify().ok
    places = {r.place: r for r in rows}
    assert places["releases/1.0.0"].action == "withdrawn"
    run_data = [r for r in rows if r.place.startswith("runs/") and "/data/" in r.place]
    assert run_data and all(r.rows_erased >= 1 for r in run_data)
    for r in run_data + [places["audit/report.html"], places["audit/facts.parquet"]]:
        path = project / r.place
        assert r.sha256_before and r.sha256_before != r.sha256_after
        from datasteward.release.format.manifest import sha256_file

        assert sha256_file(path) == r.sha256_after
    assert places[".datasteward/takedowns/pending/1.json"].action == "deleted"
    assert not (project / ".datasteward" / "takedowns" / "pending" / "1.json").exists()
    # the ledger keeps hashes: the request's value is its sha256, the suppression list ids
    listed = ds("takedown", "list", "--project", str(project), "--json").stdout
    assert a["source_uri"] not in listed and "sha256:" in listed
    sup = (project / ".datasteward" / "suppression.jsonl").read_text("utf-8")
    assert a["id"] in sup and a["source_uri"].split("://")[1] not in sup


def test_verify_names_each_place_that_still_holds_the_record(project: Path) -> None:
    a = record(project / "releases" / "1.0.0", _in_report(project))
    ds(
        "takedown",
        "add",
        "--kind",
        "privacy",
        "--url",
        a["source_uri"],
        "--requester",
        "A",
        "--reason",
        "personal data",
        "--project",
        str(project),
    )
    ds("takedown", "apply", "--project", str(project))
    # a steward pastes part of it into notes, and an old export survives under another name
    (project / "notes.md").write_text(f"# notes\n\n> {a['text'][100:400]}\n", "utf-8")
    (project / "exports").mkdir()
    (project / "exports" / "page.json").write_text(json.dumps({"u": a["source_uri"]}), "utf-8")
    out = ds("takedown", "verify", "1", "--project", str(project), check=False)
    assert out.returncode == 3
    assert "notes.md" in out.stderr and "a substring of its text" in out.stderr
    assert "exports/page.json" in out.stderr and "its URL" in out.stderr


def test_copyright_with_the_default_policy_leaves_the_old_release_intact(project: Path) -> None:
    a = record(project / "releases" / "1.0.0", _in_report(project))
    out = ds(
        "takedown",
        "add",
        "--kind",
        "copyright",
        "--url",
        a["source_uri"],
        "--requester",
        "Publisher <legal@example.org>",
        "--reason",
        "copyright",
        "--project",
        str(project),
        "--json",
    )
    assert json.loads(out.stdout)["action"] == "patch"
    ds("takedown", "apply", "--project", str(project))
    rel = project / "releases" / "1.0.0"
    assert list((rel / "data").glob("*.parquet"))
    verify = ds("verify", str(rel))
    assert verify.returncode == 0 and "superseded by takedown patch 1.0.1" in verify.stdout
    changelog = (project / "releases" / "1.0.1" / "CHANGELOG.md").read_text("utf-8")
    assert "(copyright): patch only" in changelog and "stay published unchanged" in changelog
    assert "default policy: copyright = 'patch'" in changelog
    p = _policy(project, 1)
    assert (p.category, p.action) == ("copyright", "patch")  # type: ignore[attr-defined]
    assert "default" in p.policy_source  # type: ignore[attr-defined]
    assert "audit/report.html" in scan(project, a)  # nothing was erased


def test_the_policy_is_configurable_and_recorded(project: Path) -> None:
    recipe = project / "datasteward.toml"
    recipe.write_text(
        recipe.read_text("utf-8") + '\n[takedown.policy]\ncopyright = "erase"\nprivacy = "patch"\n',
        "utf-8",
    )
    a = record(project / "releases" / "1.0.0", _in_report(project))
    ds(
        "takedown",
        "add",
        "--kind",
        "copyright",
        "--url",
        a["source_uri"],
        "--requester",
        "P",
        "--reason",
        "copyright",
        "--project",
        str(project),
    )
    p = _policy(project, 1)
    assert p.action == "erase"  # type: ignore[attr-defined]
    assert p.policy_source == "recipe [takedown.policy] copyright = 'erase'"  # type: ignore[attr-defined]
    ds("takedown", "apply", "--project", str(project))
    assert json.loads((project / "releases/1.0.0/status.json").read_text())["status"] == "withdrawn"
    assert scan(project, a) == {}
    recipe.write_text(recipe.read_text("utf-8") + 'leaks = "erase"\n', "utf-8")
    bad = ds(
        "takedown",
        "add",
        "--kind",
        "privacy",
        "--id",
        "x:1",
        "--requester",
        "P",
        "--reason",
        "r",
        "--project",
        str(project),
        check=False,
        process=True,
    )
    assert bad.returncode != 0 and "unknown takedown kind `leaks`" in bad.stderr


def test_apply_is_callable_from_python_with_progress(project: Path) -> None:
    """What the web site's takedown triage calls as a background job."""
    import datasteward

    a = record(project / "releases" / "1.0.0", _in_sample(project))
    proj = datasteward.Project.open(project)
    tid = proj.takedown(
        match="url", value=a["source_uri"], requester="A", reason="r", kind="privacy"
    )
    seen: list[tuple[str, int, int]] = []
    outcome = proj.apply_takedowns(progress=lambda s, d, t: seen.append((s, d, t)))
    assert outcome.policies == {tid: "erase"}
    assert outcome.erased[tid].withdrawn == {"1.0.0": "1.0.1"}
    stages = {s for s, _, _ in seen}
    assert {"find", "withdraw", "erase"} <= stages
    last = [x for x in seen if x[0] == "erase"][-1]
    assert last[1] == last[2] > 0  # every place was visited
    assert proj.verify_takedown(tid).ok
