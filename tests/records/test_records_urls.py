"""The URL rule moved from rights/suppression.py to records/urls.py unchanged (issue 12: release
no longer goes through rights to normalise a URL); rights keeps using the same function."""

from __future__ import annotations

import pytest

from datasteward.errors import DatastewardError, RecipeError
from datasteward.records import urls
from datasteward.rights import suppression


def test_one_rule_shared_by_rights_and_release() -> None:
    from datasteward.release.build import match, shards

    assert suppression.normalize_url is urls.normalize_url
    assert shards.normalize_url is urls.normalize_url
    assert match.normalize_key is urls.normalize_key
    assert suppression.KINDS == urls.KEY_KINDS


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("HTTP://Example.COM:80", "example.com/"),
        ("https://example.com:8443/a#b", "example.com:8443/a"),
        ("https://Example.com./x?q=1#frag", "example.com/x?q=1"),
        ("www.example.com/x?q=1", "www.example.com/x?q=1"),
        ("//example.com/p", "example.com/p"),
        ("http://[::1", None),
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_url(url: str, key: str | None) -> None:
    assert urls.normalize_url(url) == key


def test_normalize_key_by_kind() -> None:
    assert urls.normalize_key("url", " https://A.org/x ") == "a.org/x"
    assert urls.normalize_key("domain", "https://WWW.A.org/x") == "www.a.org"
    assert urls.normalize_key("sha256", "AB" * 32) == "ab" * 32
    assert urls.normalize_key("id", " web:1 ") == "web:1"
    with pytest.raises(RecipeError, match="unknown suppression kind 'host'"):
        urls.normalize_key("host", "a.org")
    for kind, value, message in [
        ("sha256", "abc", "is not a sha256"),
        ("url", "http://", "is not a URL with a host"),
        ("domain", "nodots", "is not a domain name"),
        ("id", "  ", "empty id"),
    ]:
        with pytest.raises(DatastewardError, match=message):
            urls.normalize_key(kind, value)
