"""The release documents: Croissant (validated by mlcroissant), DataCite (its JSON schema),
the Hugging Face card (the Hub's accepted values), NOTICE, and the datasheet (golden files)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from importlib import resources
from pathlib import Path

import pytest
import yaml

from datasteward.records import PROVENANCE_COLUMNS, TEXT_COLUMN
from datasteward.release.build.make import make_release
from datasteward.release.documents.card import HUB_LICENSES
from datasteward.release.documents.questions import QUESTIONS
from datasteward.release.format.manifest import read_manifest

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(scope="module")
def release_dir(released_c4: Path) -> Path:
    return released_c4 / "releases" / "1.0.0"


def test_croissant_validates_with_mlcroissant_and_lists_every_shard(release_dir: Path) -> None:
    mlc = pytest.importorskip("mlcroissant")
    doc = json.loads((release_dir / "croissant.json").read_text())
    assert "http://mlcommons.org/croissant/1.1" in doc["conformsTo"]
    shards = {f.path: f.sha256 for f in read_manifest(release_dir).data_files()}
    objects = {d["@id"]: d["sha256"] for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    assert objects == shards
    assert any(d["@type"] == "cr:FileSet" for d in doc["distribution"])
    for key in (
        "rai:dataCollection",
        "rai:dataBiases",
        "rai:personalSensitiveInformation",
        "rai:dataLimitations",
        "rai:dataPreprocessingProtocol",
    ):
        assert doc.get(key), key
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's, inside mlcroissant
        ds = mlc.Dataset(jsonld=str(release_dir / "croissant.json"))
        assert not ds.metadata.ctx.issues.errors
        assert not ds.metadata.ctx.issues.warnings
        first = next(iter(ds.records("records")))
    table_first = sorted(read_manifest(release_dir).data_files(), key=lambda f: f.path)[0]
    assert table_first.rows and first["records/id"].decode().startswith("c4:")
    # the command line validator too
    cli = Path(sys.executable).with_name("mlcroissant")
    out = subprocess.run(
        [str(cli), "validate", "--jsonld", str(release_dir / "croissant.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]


def test_croissant_has_a_field_per_released_column(release_dir: Path) -> None:
    # bug 5: this used to compare with `x[0:0] or ...`, which an empty field list passed
    import pyarrow.parquet as pq

    doc = json.loads((release_dir / "croissant.json").read_text())
    fields = [f["name"] for f in doc["recordSet"][0]["field"]]
    manifest = read_manifest(release_dir)
    shard = sorted(manifest.data_files(), key=lambda f: f.path)[0]
    assert fields == [f["name"] for f in manifest.schema["fields"]]
    assert fields == pq.read_schema(release_dir / shard.path).names
    assert set(PROVENANCE_COLUMNS) | {TEXT_COLUMN} <= set(fields)
    for field in doc["recordSet"][0]["field"]:
        assert field["source"]["extract"]["column"] == field["name"]
        assert field["dataType"], field["name"]


def test_croissant_with_a_broken_field_fails_validation(release_dir: Path, tmp_path: Path) -> None:
    mlc = pytest.importorskip("mlcroissant")
    doc = json.loads((release_dir / "croissant.json").read_text())
    del doc["recordSet"][0]["field"][0]["dataType"]
    bad = tmp_path / "croissant.json"
    bad.write_text(json.dumps(doc))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(mlc.ValidationError):
            mlc.Dataset(jsonld=str(bad))


def test_datacite_is_valid_against_the_4_5_schema(release_dir: Path) -> None:
    schema45 = pytest.importorskip("datacite.schema45")
    doc = json.loads((release_dir / "datacite.json").read_text())
    assert schema45.validate(doc)
    assert doc["version"] == "1.0.0" and doc["types"]["resourceTypeGeneral"] == "Dataset"
    assert doc["rightsList"][0]["rightsIdentifier"] == "ODC-By-1.0"
    broken = dict(doc)
    del broken["titles"]
    assert not schema45.validate(broken)


def test_card_yaml_uses_only_values_the_hub_accepts(release_dir: Path) -> None:
    text = (release_dir / "README.md").read_text()
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert m, "the card starts with YAML front matter"
    meta = yaml.safe_load(m.group(1))
    res = resources.files("datasets.utils.resources")
    sizes = json.loads(res.joinpath("size_categories.json").read_text())
    creators = json.loads(res.joinpath("creators.json").read_text())
    assert meta["license"] in HUB_LICENSES and meta["license"] == "odc-by"
    assert set(meta["size_categories"]) <= set(sizes) and meta["size_categories"] == ["n<1K"]
    assert set(meta["language_creators"]) <= set(creators["language"])
    assert meta["configs"][0]["data_files"][0]["path"] == "data/*.parquet"
    # named after the dataset and version (not "default": the datasets cache key), default
    assert meta["configs"][0]["config_name"] == "c4-sample-1.0.0"
    assert meta["configs"][0]["default"] is True
    assert set(meta) <= {
        "pretty_name",
        "license",
        "license_name",
        "license_link",
        "size_categories",
        "language_creators",
        "configs",
        "tags",
        "language",
        "multilinguality",
        "task_categories",
    }


def test_notice_credits_the_attribution(release_dir: Path) -> None:
    notice = (release_dir / "NOTICE.md").read_text()
    assert "AllenAI C4" in notice and "ODC-By-1.0" in notice


def _normalise(text: str, release_dir: Path) -> str:
    m = read_manifest(release_dir)
    text = text.replace(m.run_id or "", "<run>").replace(m.created_at[:10], "<date>")
    return text


@pytest.mark.parametrize("name", ["datasheet.md", "datasheet.html"])
def test_datasheet_matches_golden_file(release_dir: Path, name: str) -> None:
    got = _normalise((release_dir / name).read_text(), release_dir)
    golden = GOLDEN / name
    if os.environ.get("DATASTEWARD_UPDATE_GOLDEN"):
        golden.write_text(got)
    assert got == golden.read_text(), (
        f"{name} differs from {golden} (DATASTEWARD_UPDATE_GOLDEN=1 rewrites it)"
    )


def test_datasheet_asks_every_question_and_lists_unanswered(release_dir: Path) -> None:
    text = (release_dir / "datasheet.md").read_text()
    for q in QUESTIONS:
        assert f"### {q.text}" in text
    unanswered = text.split("## Unanswered questions", 1)[1]
    assert "`[motivation] funding`" in unanswered  # not in the test's datasheet.toml
    assert "`[motivation] purpose`" not in unanswered
    assert len(QUESTIONS) >= 57


def test_patch_release_documents_describe_the_patch(released_c4: Path, tmp_path: Path) -> None:
    import shutil

    from datasteward.release.build.takedown import add_request, apply

    project = Path(shutil.copytree(released_c4, tmp_path / "p"))
    first = read_manifest(project / "releases" / "1.0.0").data_files()
    import pyarrow.parquet as pq

    rid = pq.read_table(project / "releases" / "1.0.0" / first[0].path).column("id")[0].as_py()
    add_request(project, kind="id", value=rid, requester="r", reason="test")
    apply(project)
    patch = project / "releases" / "1.0.1"
    sheet = (patch / "datasheet.md").read_text()
    n = read_manifest(patch).records
    assert f"{n:,} records" in sheet
    assert "takedown patch of 1.0.0" in sheet
    assert (
        json.loads((patch / "datacite.json").read_text())["relatedIdentifiers"][0]["relationType"]
        == "IsNewVersionOf"
    )


def test_make_release_without_datasheet_toml_lists_all_stewards_questions(project: Path) -> None:
    (project / "datasheet.toml").unlink()
    r = make_release(project, "0.1.0", draft=True)
    text = (r.path / "datasheet.md").read_text()
    assert "`[motivation] purpose` (required)" in text


def test_datasheet_quotes_the_audit_of_the_released_run(project: Path) -> None:
    audit = pytest.importorskip("datasteward.audit")
    run_dir = next(p for p in (project / "runs").iterdir() if (p / "_SUCCESS").exists())
    audit.audit_run(run_dir, project / "audit", audit.AuditConfig())
    result = make_release(project, "1.0.0", draft=True)
    text = (result.path / "datasheet.md").read_text()
    assert f"The audit of run `{run_dir.name}` (audit.json)" in text
    # an audit of another run is not quoted
    data = json.loads((project / "audit" / "audit.json").read_text())
    data["run"]["run_id"] = "another-run"
    (project / "audit" / "audit.json").write_text(json.dumps(data))
    other = make_release(project, "1.1.0", draft=True)
    assert "The audit of run" not in (other.path / "datasheet.md").read_text()
