"""The suppression list: storage, normalisation and vectorised matching."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rights_helpers import batch

from datasteward.errors import DatastewardError
from datasteward.records.schema import content_sha256
from datasteward.rights.suppression import SuppressionList, normalize_url


def test_add_load_and_match_each_kind(tmp_path: Path) -> None:
    sha = content_sha256("a private letter")
    SuppressionList.add(tmp_path, kind="id", value="web:7", reason="GDPR art. 17", by="ana")
    SuppressionList.add(
        tmp_path,
        kind="url",
        value="HTTPS://News.Example.org/a?x=1#top",
        reason="takedown #3",
        by="bo",
    )
    SuppressionList.add(
        tmp_path,
        kind="domain",
        value="https://Blocked.example.com/",
        reason="site request",
        by="bo",
    )
    SuppressionList.add(tmp_path, kind="sha256", value=sha.upper(), reason="leak", by="cy")
    sl = SuppressionList.load(tmp_path)
    assert len(sl) == 4
    lines = (tmp_path / ".datasteward" / "suppression.jsonl").read_text().splitlines()
    assert [json.loads(x)["by"] for x in lines] == ["ana", "bo", "bo", "cy"]
    assert all(json.loads(x)["at"].endswith("+00:00") for x in lines)
    rows = [
        {"id": "web:7"},
        {"source_uri": "http://news.example.org/a?x=1"},  # scheme and fragment do not matter
        {"source_uri": "https://news.example.org/a?x=2"},  # the query does
        {"source_uri": "https://deep.sub.blocked.example.com/page"},
        {"source_uri": "https://notblocked.example.com/page"},
        {"source_uri": "https://blocked.example.com.evil.org/"},
        {"text": "a private letter"},
        {"source_uri": None},
        {"source_uri": "not a url at all"},
    ]
    for k, row in enumerate(rows):
        row.setdefault("id", f"other:{k}")
    mask, why = sl.match(batch(rows))
    assert mask.tolist() == [True, True, False, True, False, False, True, False, False]
    assert why[0] == f"suppressed id web:7: GDPR art. 17 (by ana, {sl.entries[0].at})"
    assert why[1] is not None and "takedown #3" in why[1]
    assert why[3] is not None and "domain blocked.example.com" in why[3]
    assert why[6] is not None and "leak" in why[6]
    assert why[2] is None and why[4] is None


def test_empty_list_and_bad_input(tmp_path: Path) -> None:
    mask, why = SuppressionList.load(tmp_path).match(batch([{"id": "a:1"}]))
    assert mask.tolist() == [False] and why == [None]
    with pytest.raises(DatastewardError, match="not a sha256"):
        SuppressionList.add(tmp_path, kind="sha256", value="abc", reason="r", by="b")
    with pytest.raises(DatastewardError, match="reason and who"):
        SuppressionList.add(tmp_path, kind="id", value="a:1", reason=" ", by="b")
    with pytest.raises(DatastewardError, match="unknown suppression kind"):
        SuppressionList.add(tmp_path, kind="email", value="x@y.z", reason="r", by="b")
    path = tmp_path / ".datasteward" / "suppression.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"kind": "id"}\n')
    with pytest.raises(DatastewardError, match=r"suppression.jsonl:1"):
        SuppressionList.load(tmp_path)


def test_concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    def add(k: int) -> None:
        for j in range(25):
            SuppressionList.add(tmp_path, kind="id", value=f"w:{k}-{j}", reason="r", by=f"t{k}")

    threads = [threading.Thread(target=add, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(SuppressionList.load(tmp_path)) == 100


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a.org", "b.a.org", "c.net", "x.c.net", "z.io"]), min_size=1, max_size=30
    ),
    st.sets(st.sampled_from(["a.org", "c.net", "x.c.net", "nothing.org"]), max_size=3),
)
def test_domain_match_is_suffix_match(hosts: list[str], blocked: set[str]) -> None:
    sl = SuppressionList([])
    from datasteward.rights.suppression import Entry

    sl = SuppressionList([Entry("domain", d, "r", "b", "t") for d in blocked])
    mask, _ = sl.match(batch([{"source_uri": f"https://{h}/p"} for h in hosts]))
    expected = np.array([any(h == d or h.endswith("." + d) for d in blocked) for h in hosts])
    assert mask.tolist() == expected.tolist()


def test_normalize_url() -> None:
    assert normalize_url("HTTP://Example.COM:80") == "example.com/"
    assert normalize_url("https://example.com:8443/a#b") == "example.com:8443/a"
    assert normalize_url("www.example.com/x?q=1") == "www.example.com/x?q=1"
    assert normalize_url("") is None
