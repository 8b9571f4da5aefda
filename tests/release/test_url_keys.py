"""The index's vectorised URL normalisation agrees with the suppression list's, row by row."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from datafiles import shared
from hypothesis import given, settings
from hypothesis import strategies as st

from datasteward.release.build.shards import url_keys
from datasteward.rights.suppression import normalize_url


def _reference(uris: list[str | None]) -> tuple[list[str | None], list[str | None]]:
    keys = [normalize_url(u) if u else None for u in uris]
    hosts = [k.split("/", 1)[0].split(":", 1)[0] if k else None for k in keys]
    return keys, hosts


def _check(uris: list[str | None]) -> None:
    keys, hosts = url_keys(pa.array(uris, pa.string()))
    want_keys, want_hosts = _reference(uris)
    assert keys.to_pylist() == want_keys
    assert hosts.to_pylist() == want_hosts


def test_real_urls_agree() -> None:
    c4 = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    uris = [json.loads(line)["url"] for line in c4.read_text().splitlines()]
    _check(uris)


@pytest.mark.parametrize(
    "uri",
    [
        "HTTPS://Example.COM.",
        "http://example.com",
        "http://example.com?",
        "http://a.b/p?q=1#f",
        "http://example.com:80/x",
        "http://example.com:8080/x",
        "http://user@example.com/x",
        "example.com/path",
        "//example.com/a",
        " http://example.com/a ",
        "http://[::1]/x",
        "http://.../x",
        "http://exa mple.com/",
        "ftp://Files.example.org/a#b",
        "http://:99999/",
        "mailto:someone@example.com",
        "http://ex%41mple.com/",
    ],
)
def test_edge_cases_agree(uri: str) -> None:
    _check([uri, None])


_ALPHABET = list("aZ09.-:/?#@% \t[]_~é")
_PIECES = st.lists(
    st.sampled_from(["http://", "https://", "xn--", "HTTP://", *_ALPHABET]), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), _PIECES.map("".join), _PIECES.map(lambda p: "http://" + "".join(p))),
        max_size=20,
    )
)
def test_random_urls_agree(uris: list[str | None]) -> None:
    _check(uris)
