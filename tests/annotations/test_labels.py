from __future__ import annotations

import json
from pathlib import Path

import pytest

from datasteward.annotations.labels import LabelColumns, read_labels
from datasteward.annotations.pseudonymise import ENV, project_secret, pseudonymise

pytest.importorskip("pandas", reason="annotations need pandas (datasteward[annotations])")


def test_bad_rows_are_quarantined_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "labels.csv"
    f.write_text(
        "item,annotator,label,time_s\n"
        "r1,w1,cat,10\n"
        "r1,w2,dog,12\n"
        'r2,w1,"bird\nwith a newline",5\n'  # a quoted label spanning two lines
        "r9,w1,cat,3\n"  # unknown item (line 6)
        "r1,w1,dog,4\n"  # duplicate item x annotator (line 7)
        "r2,w2,cow,4\n"  # outside the label space (line 8)
        "r2,w3,cat,-1\n"  # negative time (line 9)
        "r2,,cat,1\n"  # missing annotator (line 10)
        "r2,w4,dog,2\n"
    )
    got = read_labels(
        f,
        LabelColumns(time_s="time_s"),
        label_space={"cat", "dog", "bird\nwith a newline"},
        items={"r1", "r2"},
    )
    assert got.items == ["r1", "r1", "r2", "r2"]
    assert got.extra["time_s"] == ["10", "12", "5", "2"]
    where = {q.where.rsplit(":", 1)[1]: q.reason for q in got.quarantined}
    assert set(where) == {"6", "7", "8", "9", "10"}
    assert "unknown item" in where["6"]
    assert "duplicate" in where["7"] and f"{f}:2" in where["7"]
    assert "outside the label space" in where["8"]
    assert "negative" in where["9"]
    assert "missing" in where["10"]


def test_jsonl_and_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    j = tmp_path / "a.jsonl"
    j.write_text(
        json.dumps({"item": "x", "annotator": "p", "label": 1})
        + "\nnot json\n"
        + json.dumps({"item": "x", "annotator": "q", "label": 2})
        + "\n"
    )
    p = tmp_path / "b.parquet"
    pq.write_table(pa.table({"item": ["x", "x"], "annotator": ["r", "r"], "label": [1, 1]}), p)
    got = read_labels([j, p])
    assert got.labels == [1, 2, 1]
    assert [q.where for q in got.quarantined] == [f"{j}:2", f"{p}:row 2"]


def test_pseudonyms_are_keyed_and_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    key = project_secret(tmp_path)
    assert (tmp_path / ".datasteward" / "annotator.key").stat().st_mode & 0o777 == 0o600
    assert project_secret(tmp_path) == key
    a = pseudonymise(["A1AVJRFM6L0RN8", "w2", "A1AVJRFM6L0RN8"], key)
    assert a[0] == a[2] != a[1]
    assert "A1AVJRFM6L0RN8" not in a[0]
    monkeypatch.setenv(ENV, "another secret")
    assert pseudonymise(["A1AVJRFM6L0RN8"], project_secret(tmp_path))[0] != a[0]
