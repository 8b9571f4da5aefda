"""Deprecation: status.json, registry, ledger, DataCite IsObsoletedBy, and what load() does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datasteward.errors import DeprecatedDatasetError, ReleaseError
from datasteward.ledger import Ledger
from datasteward.release.build.deprecate import deprecate
from datasteward.release.build.make import make_release
from datasteward.release.consumer.load import ReleaseWarning, load
from datasteward.release.consumer.verify_release import verify_release


@pytest.fixture
def two_releases(released_c4: Path, tmp_path: Path) -> Path:
    project = Path(shutil.copytree(released_c4, tmp_path / "p"))
    make_release(project, "1.1.0", draft=True)
    return project


def test_deprecated_release_refuses_to_load_with_reason_and_replacement(two_releases: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasteward",
            "deprecate",
            "1.0.0",
            "--reason",
            "contains personal data",
            "--kind",
            "legal",
            "--replacement",
            "1.1.0",
            "--sunset",
            "2999-01-31",
            "--access",
            "gated",
            "--appeal-contact",
            "ana@example.org",
            "--by",
            "Ana Ruiz",
            "-p",
            str(two_releases),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    old = two_releases / "releases" / "1.0.0"
    status = json.loads((old / "status.json").read_text())
    assert status["status"] == "deprecated"
    dep = status["deprecation"]
    assert (dep["reason_kind"], dep["replacement"], dep["access"], dep["sunset"]) == (
        "legal",
        "1.1.0",
        "gated",
        "2999-01-31",
    )
    rel = status["datacite"]["relatedIdentifiers"]
    assert {
        "relatedIdentifier": "urn:datasteward:c4-sample:1.1.0",  # a URN, not "name@version"
        "relatedIdentifierType": "URN",
        "relationType": "IsObsoletedBy",
    } in rel
    schema45 = pytest.importorskip("datacite.schema45")
    assert schema45.validate(status["datacite"])
    registry = json.loads((two_releases / "releases" / "registry.json").read_text())
    assert {r["version"]: r["status"] for r in registry["releases"]} == {
        "1.1.0": "current",
        "1.0.0": "deprecated",
    }
    # the release files are unchanged: it still verifies, with a notice
    report = verify_release(old)
    assert report.ok and any("deprecated" in n and "1.1.0" in n for n in report.notices)
    with pytest.raises(DeprecatedDatasetError, match="contains personal data") as info:
        load(old)
    assert "use 1.1.0 instead" in str(info.value)
    with pytest.warns(ReleaseWarning, match="deprecated"):
        assert load(old, allow_deprecated=True).count_rows() > 0
    assert load(two_releases / "releases" / "1.1.0").count_rows() > 0
    with Ledger.open(two_releases) as ledger:
        assert ledger.verify().ok
        assert ledger.events(limit=1)[0].type == "release.deprecated"


def test_deleted_after_sunset_cannot_be_loaded_even_when_allowed(two_releases: Path) -> None:
    deprecate(
        two_releases,
        "1.0.0",
        reason="harmful content",
        replacement=None,
        sunset="2000-01-01",
        access="deleted",
        reason_kind="ethical",
        by="Ana",
    )
    with pytest.raises(DeprecatedDatasetError, match="withdrawn on 2000-01-01"):
        load(two_releases / "releases" / "1.0.0", allow_deprecated=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"access": "hidden"}, "unknown access"),
        ({"sunset": "soon"}, "not a date"),
        ({"replacement": "9.0.0"}, "not a release"),
        ({"reason_kind": "whim"}, "unknown reason kind"),
    ],
)
def test_bad_deprecations_are_refused(
    two_releases: Path, kwargs: dict[str, str], message: str
) -> None:
    args = {
        "reason": "r",
        "replacement": "1.1.0",
        "sunset": "2999-01-01",
        "access": "archived",
        "by": "x",
    }
    args.update(kwargs)
    with pytest.raises(ReleaseError, match=message):
        deprecate(two_releases, "1.0.0", **args)  # type: ignore[arg-type]
    assert not (two_releases / "releases" / "1.0.0" / "status.json").exists()
