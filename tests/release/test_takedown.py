"""Takedowns: matching, patch releases that remove exactly the matching records, suppression,
the ledger's stages, and what loaders see afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasteward.ledger import Ledger
from datasteward.release.build.takedown import add_request, apply, list_requests
from datasteward.release.consumer.load import ReleaseWarning, load
from datasteward.release.consumer.verify_release import verify_release
from datasteward.release.format.manifest import read_manifest
from datasteward.rights.suppression import Entry, SuppressionList, normalize_value

_WIDE = {**os.environ, "COLUMNS": "300"}


def _records(release: Path) -> pa.Table:
    m = read_manifest(release)
    return pa.concat_tables([pq.read_table(release / f.path) for f in m.data_files()])


def _expected_ids(table: pa.Table, kind: str, value: str) -> set[str]:
    """The records a request names, computed independently of the release index."""
    ids = table.column("id").to_pylist()
    if kind == "text":
        needle = value.strip().lower()
        return {
            i
            for i, t in zip(ids, table.column("text").to_pylist(), strict=True)
            if needle in t.lower()
        }
    sl = SuppressionList([Entry(kind, normalize_value(kind, value), "r", "b", "")])
    mask, _ = sl.match(table.combine_chunks().to_batches()[0])
    return {i for i, hit in zip(ids, mask.tolist(), strict=True) if hit}


def test_url_takedown_makes_a_patch_without_exactly_that_record(
    released_c4: Path, tmp_path: Path
) -> None:
    project = Path(shutil.copytree(released_c4, tmp_path / "p"))
    original = _records(project / "releases" / "1.0.0")
    row = original.slice(11, 1).to_pylist()[0]
    url = row["source_uri"].replace("https://", "http://")  # same page for a takedown
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasteward",
            "takedown",
            "add",
            "--url",
            url,
            "--requester",
            "J. Doe <j@example.org>",
            "--reason",
            "my personal page",
            "-p",
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=_WIDE,
    )
    assert out.returncode == 0, out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "datasteward", "takedown", "apply", "-p", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_WIDE,
    )
    assert out.returncode == 0, out.stderr
    assert row["id"] in out.stdout and "Patch release 1.0.1 of 1.0.0" in out.stdout
    patch = project / "releases" / "1.0.1"
    assert verify_release(patch).ok
    after = _records(patch)
    expected = original.filter(
        pa.compute.invert(pa.compute.is_in(original.column("id"), pa.array([row["id"]])))
    )
    assert after.num_rows == original.num_rows - 1
    assert after.to_pylist() == expected.to_pylist()  # every other record unchanged, same order
    m = read_manifest(patch)
    assert m.parent == "1.0.0" and m.takedowns[0]["kind"] == "url"
    parent_m = read_manifest(project / "releases" / "1.0.0")
    assert m.max_shard_bytes == parent_m.max_shard_bytes == 400_000  # same shard bound
    assert len(m.data_files()) == len(parent_m.data_files())
    assert "takedown patch of 1.0.0" in (patch / "CHANGELOG.md").read_text()
    # suppression: later runs drop it at ingest
    entries = list(SuppressionList.load(project))
    assert [(e.kind, e.value) for e in entries] == [
        ("url", normalize_value("url", row["source_uri"]))
    ]
    # the ledger has every stage, in order, and its chain still verifies
    (req,) = list_requests(project)
    assert req.status == "notified"
    times = [req.stages[s][0] for s in ("received", "matched", "executed", "notified")]
    assert times == sorted(times)
    with Ledger.open(project) as ledger:
        assert ledger.verify().ok
        kinds = [e.type for e in ledger.events()]
    assert kinds[-4:] == [
        "takedown.matched",
        "release.created",
        "takedown.executed",
        "takedown.notified",
    ]
    # the old release warns, names the patch, and never returns the withdrawn record
    with pytest.warns(ReleaseWarning, match="superseded by takedown patch 1.0.1"):
        old = load(project / "releases" / "1.0.0").to_table()
    assert row["id"] not in set(old.column("id").to_pylist())
    assert old.num_rows == original.num_rows - 1
    # a second apply has nothing pending
    with pytest.raises(Exception, match="no pending takedown"):
        apply(project)


_REQUEST_KINDS = st.sampled_from(["url", "domain", "sha256", "id", "text", "absent"])


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_patch_equals_original_minus_exactly_the_matches(
    released_c4: Path, data: st.DataObject
) -> None:
    original = _records(released_c4 / "releases" / "1.0.0")
    n = original.num_rows
    requests = []
    for kind in data.draw(st.lists(_REQUEST_KINDS, min_size=1, max_size=3), label="kinds"):
        row = original.slice(data.draw(st.integers(0, n - 1), label="row"), 1).to_pylist()[0]
        if kind == "url":
            requests.append(("url", row["source_uri"]))
        elif kind == "domain":
            host = normalize_value("url", row["source_uri"]).split("/", 1)[0]
            requests.append(("domain", ".".join(host.split(".")[-2:])))
        elif kind == "sha256":
            requests.append(("sha256", row["content_sha256"].upper()))
        elif kind == "id":
            requests.append(("id", row["id"]))
        elif kind == "text":
            words = [w for w in row["text"].split() if w.isascii() and w.isalpha() and len(w) >= 6]
            if words:
                requests.append(("text", data.draw(st.sampled_from(words), label="word")))
        else:
            requests.append(("url", "https://nowhere.example/absent"))
    expected: set[str] = set()
    for kind, value in requests:
        expected |= _expected_ids(original, kind, value)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(shutil.copytree(released_c4, Path(tmp) / "p"))
        for kind, value in requests:
            add_request(project, kind=kind, value=value, requester="prop", reason="property test")
        result = apply(project)
        found = {m.id for m in result.matches.items if m.where == "1.0.0"}
        assert found == expected
        if not expected:
            assert result.patches == {}
            return
        after = _records(project / "releases" / "1.0.1")
        keep = pa.compute.invert(
            pa.compute.is_in(original.column("id"), pa.array(sorted(expected), pa.string()))
        )
        assert after.to_pylist() == original.filter(keep).to_pylist()
