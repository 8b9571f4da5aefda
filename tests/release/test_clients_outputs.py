"""Issue #13, "Outputs other tools read" (items 1, 2, 3, 4, 16): releases of two different
projects, read back with the clients their users have — ``datasets`` (``load_dataset`` on the
release folder, in one Hugging Face cache), ``huggingface_hub`` (card metadata),
``mlcroissant`` (validate, read records) and the DataCite 4.5 JSON schema.

The projects are made by the tests themselves (a fresh clone runs them); the Openverse image
metadata in ../shared/data (24 licences) is a real mixed-licence case when present.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import stat
import subprocess
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from datasteward.release.build.make import make_release
from datasteward.release.documents.card import HUB_LICENSES, HUB_TASK_CATEGORIES
from tests.conftest import shared

STEWARD = '[[stewards]]\nname = "Ana Ruiz"\nemail = "ana@example.org"\n'


def _project(
    root: Path,
    *,
    name: str,
    rows: list[dict[str, Any]],
    dataset_extra: str = "",
    source_extra: str = 'url_field = "url"\nlicense_field = "lic"\n',
    fmt: str = "jsonl",
    version: str = "1.0.0",
) -> Path:
    """A project with one finished run over ``rows`` and a draft release ``version``."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    (root / "data").mkdir(parents=True)
    if fmt == "jsonl":
        with open(root / "data" / "d.jsonl", "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
    (root / "datasteward.toml").write_text(
        f'[dataset]\nname = "{name}"\ndescription = "A test dataset."\n{dataset_extra}\n'
        f'{STEWARD}\n[[sources]]\nname = "s"\nformat = "{fmt}"\npath = "data/*.{fmt}"\n'
        f"{source_extra}",
        "utf-8",
    )
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, version, draft=True)
    return root / "releases" / version


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two projects, same version 1.0.0: one licence (alpha), three mixed (beta)."""
    base = tmp_path_factory.mktemp("two")
    a = _project(
        base / "a",
        name="alpha",
        rows=[
            {
                "text": f"alpha document number {i}",
                "url": f"https://a.example/{i}",
                "lic": "CC-BY-4.0",
            }
            for i in range(5)
        ],
        dataset_extra=(
            'language = ["en"]\ntask_categories = ["text-generation"]\n'
            'keywords = ["web text", "test"]\nhomepage = "https://data.example/alpha"\n'
        ),
    )
    lic = ["CC-BY-SA-4.0", "CC-BY-NC-4.0", "unknown"]
    b = _project(
        base / "b",
        name="beta",
        rows=[
            {"text": f"beta texte numéro {i}", "url": f"https://b.example/{i}", "lic": lic[i % 3]}
            for i in range(7)
        ],
        dataset_extra='language = ["fr", "en"]\n',
    )
    return a, b


def _card(release: Path) -> dict[str, Any]:
    text = (release / "README.md").read_text("utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert m, "the card starts with YAML front matter"
    meta: dict[str, Any] = yaml.safe_load(m.group(1))
    return meta


def _records(release: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(release / "data").to_pylist()


# --- 1. Hugging Face: two projects, one cache -------------------------------------------------


_LOAD = """
import json, sys
import datasets
out = {}
for path in sys.argv[1:]:
    ds = datasets.load_dataset(path, split="train")
    out[path] = sorted(ds["text"])
print(json.dumps(out))
"""


def test_two_projects_same_version_load_their_own_rows_from_one_hf_cache(
    two: tuple[Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("datasets")
    a, b = two
    env = dict(os.environ)
    env.update(
        HF_HOME=str(tmp_path / "hf"),
        HF_DATASETS_CACHE=str(tmp_path / "hf" / "datasets"),
        HF_DATASETS_OFFLINE="1",
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    out = subprocess.run(
        [sys.executable, "-c", _LOAD, str(a), str(b)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got[str(a)] == sorted(r["text"] for r in _records(a))
    assert got[str(b)] == sorted(r["text"] for r in _records(b))
    assert got[str(a)] != got[str(b)]
    # the config names differ, and each names its dataset and version
    names = [_card(r)["configs"][0]["config_name"] for r in (a, b)]
    assert names[0] != names[1] and "alpha" in names[0] and "1.0.0" in names[0]


def test_card_metadata_reads_with_huggingface_hub_and_uses_hub_values(
    two: tuple[Path, Path],
) -> None:
    hub = pytest.importorskip("huggingface_hub")
    res = resources.files("datasets.utils.resources")
    languages = json.loads(res.joinpath("languages.json").read_text())
    a, b = two
    for release in (a, b):
        card = hub.DatasetCard.load(release / "README.md")
        data = card.data.to_dict()
        assert data["configs"][0]["data_files"][0]["path"] == "data/*.parquet"
        assert data["configs"][0].get("default") is True
        lic = data["license"]
        for x in lic if isinstance(lic, list) else [lic]:
            assert x in HUB_LICENSES, x
        if lic == "other":
            assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*", data["license_name"])
            assert data["license_link"]
        assert set(data.get("language", [])) <= set(languages)
        assert set(data.get("task_categories", [])) <= HUB_TASK_CATEGORIES
    a_meta, b_meta = _card(a), _card(b)
    assert a_meta["license"] == "cc-by-4.0"
    assert a_meta["task_categories"] == ["text-generation"]
    assert a_meta["language"] == ["en"]
    # beta mixes CC-BY-SA-4.0, CC-BY-NC-4.0 and unknown: each is listed, none is hidden
    assert sorted(b_meta["license"]) == ["cc-by-nc-4.0", "cc-by-sa-4.0", "unknown"]
    assert b_meta["language"] == ["fr", "en"] and b_meta["multilinguality"] == ["multilingual"]
    assert "task_categories" not in b_meta


def test_an_unknown_task_category_is_refused_naming_the_key(tmp_path: Path) -> None:
    from datasteward.errors import DatastewardError

    with pytest.raises(DatastewardError) as e:
        _project(
            tmp_path / "p",
            name="gamma",
            rows=[{"text": "one doc here", "url": "https://g.example/1", "lic": "CC0-1.0"}],
            dataset_extra='task_categories = ["text-generaton"]\n',
        )
    msg = str(e.value)
    assert "text-generaton" in msg and "task_categories" in msg and "text-generation" in msg


# --- 2. The licence of a mixed-licence release is true in every document ---------------------


def test_croissant_validates_reads_records_and_states_the_true_licence(
    two: tuple[Path, Path],
) -> None:
    mlc = pytest.importorskip("mlcroissant")
    a, b = two
    for release in (a, b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's, inside mlcroissant
            ds = mlc.Dataset(jsonld=str(release / "croissant.json"))
            assert not ds.metadata.ctx.issues.errors
            assert not ds.metadata.ctx.issues.warnings, ds.metadata.ctx.issues.report()
            got = sorted(r["records/text"].decode() for r in ds.records("records"))
        assert got == sorted(r["text"] for r in _records(release))
    da = json.loads((a / "croissant.json").read_text())
    db = json.loads((b / "croissant.json").read_text())
    assert da["license"] == "https://creativecommons.org/licenses/by/4.0/"
    lic = db["license"]
    assert isinstance(lic, list)
    urls = sorted(x for x in lic if isinstance(x, str))
    assert urls == [
        "https://creativecommons.org/licenses/by-nc/4.0/",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ]
    per_record = [x for x in lic if isinstance(x, dict)]
    assert per_record and "license" in per_record[0]["description"]
    assert "NOTICE.md" in per_record[0]["description"]
    assert "https://spdx.org/licenses/" not in json.dumps(lic)


def test_datacite_rights_list_every_licence_and_say_unknown(two: tuple[Path, Path]) -> None:
    schema45 = pytest.importorskip("datacite.schema45")
    a, b = two
    for release in (a, b):
        assert schema45.validate(json.loads((release / "datacite.json").read_text()))
    rights = json.loads((b / "datacite.json").read_text())["rightsList"]
    ids = sorted(r.get("rightsIdentifier", "") for r in rights)
    assert ids == ["", "CC-BY-NC-4.0", "CC-BY-SA-4.0"]
    unknown = next(r for r in rights if "rightsIdentifier" not in r)
    assert "unknown" in unknown["rights"].lower() and "license" in unknown["rights"]


def test_card_and_notice_of_a_mixed_release_say_licences_are_per_record(
    two: tuple[Path, Path],
) -> None:
    _, b = two
    card = (b / "README.md").read_text()
    section = card.split("## Licence", 1)[1].split("\n## ", 1)[0]
    assert "differ by record" in section and "`license`" in section
    for spdx in ("CC-BY-SA-4.0", "CC-BY-NC-4.0", "licence unknown"):
        assert spdx in section
    notice = (b / "NOTICE.md").read_text()
    assert "cannot be determined" in notice and "spdx.org/licenses/unknown" not in notice


def _openverse_release(root: Path) -> Path:
    src = shared("image-text", "openverse-cc-images", "sample_images_to_clean.csv")
    (root / "data").mkdir(parents=True)
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:400]
    with open(root / "data" / "d.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return _project_from_files(root)


def _project_from_files(root: Path) -> Path:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    (root / "datasteward.toml").write_text(
        '[dataset]\nname = "openverse-sample"\ndescription = "Openverse image metadata."\n'
        f'language = "en"\n\n{STEWARD}\n[[sources]]\nname = "openverse"\nformat = "csv"\n'
        'path = "data/*.csv"\ntext_field = "title"\nid_field = "identifier"\n'
        'url_field = "foreign_landing_url"\nlicense_field = "license"\n'
        'license_version_field = "license_version"\nattribution_field = "creator"\n\n'
        '[[steps]]\nuse = "rights.license_normalize"\n',
        "utf-8",
    )
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True)
    return root / "releases" / "1.0.0"


def test_openverse_release_is_described_as_mixed_licence_image_metadata(tmp_path: Path) -> None:
    release = _openverse_release(tmp_path / "ov")
    licences = {r["license"] for r in _records(release)}
    assert len(licences) > 3
    card = _card(release)
    assert card["license"] == "other" or sorted(card["license"]) == sorted(
        x.lower() for x in licences
    )
    croissant = json.loads((release / "croissant.json").read_text())
    lic = croissant["license"]
    assert isinstance(lic, list) and len(lic) >= len(licences) - 1
    assert "https://creativecommons.org/licenses/by-nc/2.0/" in lic
    assert "https://creativecommons.org/licenses/by/2.0/" in lic
    dc = json.loads((release / "datacite.json").read_text())
    assert len(dc["rightsList"]) == len(licences)
    assert "image" in dc["types"]["resourceType"].lower()
    assert dc["types"]["resourceType"] != "Text corpus"


# --- 3. DataCite and Croissant fields ---------------------------------------------------------


def test_datacite_resource_type_language_subjects_and_related_identifier(
    tmp_path: Path, two: tuple[Path, Path]
) -> None:
    schema45 = pytest.importorskip("datacite.schema45")
    a, _ = two
    doc = json.loads((a / "datacite.json").read_text())
    assert doc["types"]["resourceType"] == "Text corpus"
    assert doc["language"] == "en"
    assert [s["subject"] for s in doc["subjects"]] == ["web text", "test"]
    # image metadata: records whose links are images
    img = _project(
        tmp_path / "img",
        name="pictures",
        rows=[
            {
                "text": f"a photo of a cat {i}",
                "url": f"https://img.example/cat{i}.jpg",
                "lic": "CC0-1.0",
                "width": 640,
                "height": 480,
            }
            for i in range(4)
        ],
    )
    idoc = json.loads((img / "datacite.json").read_text())
    assert schema45.validate(idoc)
    assert "image" in idoc["types"]["resourceType"].lower()
    # a patch release without a homepage: the related identifier is a real URN
    from datasteward.release.build.takedown import add_request, apply

    rid = _records(img)[0]["id"]
    add_request(img.parents[1], kind="id", value=rid, requester="r", reason="test")
    apply(img.parents[1])
    patch = json.loads((img.parent / "1.0.1" / "datacite.json").read_text())
    assert schema45.validate(patch)
    rel = patch["relatedIdentifiers"][0]
    assert rel["relationType"] == "IsNewVersionOf"
    if rel["relatedIdentifierType"] == "URN":
        assert re.fullmatch(r"urn:[a-z0-9][a-z0-9-]{0,31}:\S+", rel["relatedIdentifier"], re.I)


def test_obsoleted_by_a_version_is_a_urn() -> None:
    from datasteward.release.documents.datacite import obsoleted

    doc = obsoleted({"titles": [{"title": "x"}]}, replacement="x@2.0.0", identifier_type="URN")
    rel = doc["relatedIdentifiers"][0]
    assert rel["relatedIdentifier"].startswith("urn:")


def test_croissant_cite_as_is_bibtex_and_has_the_new_fields(two: tuple[Path, Path]) -> None:
    a, b = two
    doc = json.loads((a / "croissant.json").read_text())
    cite = doc["citeAs"]
    assert cite.startswith("@misc{") and cite.rstrip().endswith("}")
    assert "author = {Ruiz, Ana}" in cite or "author = {Ana Ruiz}" in cite
    assert "url = {https://data.example/alpha/releases/1.0.0/}" in cite
    assert "version = {1.0.0}" in cite
    assert doc["sdVersion"] == "1.1"
    assert doc["inLanguage"] == ["en"]
    assert doc["keywords"] == ["web text", "test"]
    assert doc["publisher"][0]["name"] == "Ana Ruiz"
    assert doc["url"] == "https://data.example/alpha"
    # jsonl files someone else collected are not "Web Scraping" by us
    assert doc["rai:dataCollectionType"] != ["Web Scraping"]
    assert json.loads((b / "croissant.json").read_text())["inLanguage"] == ["fr", "en"]


def test_croissant_without_a_homepage_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        release = _project(
            tmp_path / "p",
            name="nohome",
            rows=[{"text": "one doc here", "url": "https://n.example/1", "lic": "CC0-1.0"}],
        )
    doc = json.loads((release / "croissant.json").read_text())
    result = make_release(tmp_path / "p", "1.1.0", draft=True)
    assert any("homepage" in w and doc["url"] in w for w in result.warnings)

    # the command's summary says so too
    out = subprocess.run(
        [sys.executable, "-m", "datasteward", "release", "1.2.0", "--draft", "--project",
         str(tmp_path / "p")],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Warning:" in out.stdout and "homepage" in out.stdout
    assert doc["url"].startswith("https://example.invalid/")
    assert any(
        "homepage" in r.getMessage() and "[dataset]" in r.getMessage() for r in caplog.records
    )


# --- 4. Release folders follow the umask --------------------------------------------------------


def test_release_folders_and_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        release = _project(
            tmp_path / "p",
            name="perm",
            rows=[{"text": "one doc here", "url": "https://p.example/1", "lic": "CC0-1.0"}],
        )
    finally:
        os.umask(old)
    dirs = [release, *(p for p in release.rglob("*") if p.is_dir())]
    files = [p for p in release.rglob("*") if p.is_file()]
    assert files and len(dirs) >= 3
    for d in dirs:
        assert stat.S_IMODE(d.stat().st_mode) == 0o755, d
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


# --- 16. NOTICE when every licence is unknown -------------------------------------------------


def test_notice_with_only_unknown_licences_says_what_is_true(tmp_path: Path) -> None:
    release = _project(
        tmp_path / "p",
        name="unk",
        rows=[{"text": f"doc {i} with words", "url": f"https://u.example/{i}"} for i in range(3)],
    )
    notice = (release / "NOTICE.md").read_text()
    assert "spdx.org/licenses/unknown" not in notice
    assert "works whose licences require attribution" not in notice
    assert "unknown" in notice.lower() and "cannot be determined" in notice


def test_notice_links_only_real_spdx_ids() -> None:
    from datasteward.rights.notice import license_url

    assert license_url("unknown") is None
    assert license_url("NOASSERTION") is None
    assert license_url("MIT") == "https://spdx.org/licenses/MIT.html"
    assert license_url("not-a-licence") is None


def test_recipe_dataset_takes_task_categories_and_keywords(tmp_path: Path) -> None:
    from datasteward.errors import RecipeError
    from datasteward.recipe import load_recipe

    body = '\n[[sources]]\nname = "s"\nformat = "jsonl"\npath = "d/*.jsonl"\n'
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "x"\ntask_categories = "text-generation"\n'
        'keywords = ["web", "news"]\n' + body
    )
    info = load_recipe(tmp_path).dataset
    assert info.task_categories == ("text-generation",) and info.keywords == ("web", "news")
    (tmp_path / "datasteward.toml").write_text('[dataset]\nname = "x"\nkeywords = 3\n' + body)
    with pytest.raises(RecipeError, match=r"datasteward\.toml:3.*keywords"):
        load_recipe(tmp_path)


def test_croissant_licence_of_several_known_licences_says_per_record() -> None:
    from datasteward.release.documents.croissant import croissant_license

    one = croissant_license({"MIT": 3})
    assert one == "https://spdx.org/licenses/MIT.html"
    two = croissant_license({"MIT": 1, "CC-BY-4.0": 2})
    assert isinstance(two, list) and two[:2] == [
        "https://creativecommons.org/licenses/by/4.0/",
        "https://spdx.org/licenses/MIT.html",
    ]
    assert isinstance(two[2], dict) and "one of these, not all" in two[2]["description"]
    unknown = croissant_license({"unknown": 4})
    assert isinstance(unknown, list) and unknown[0]["name"] == "Licence unknown"  # type: ignore[index]
    assert "spdx.org/licenses/" not in json.dumps(unknown)
