"""Dates and licences as real data writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from datasteward.sources._fields import combine_license, parse_date, parse_dates

UTC = dt.UTC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019-04-25T12:57:54Z", dt.datetime(2019, 4, 25, 12, 57, 54, tzinfo=UTC)),  # C4
        (
            "2019-04-25 12:57:54",
            dt.datetime(2019, 4, 25, 12, 57, 54, tzinfo=UTC),
        ),  # C4 re-serialised
        ("2017/2/7", dt.datetime(2017, 2, 7, tzinfo=UTC)),  # NewsArticles.csv
        ("2018-11-09 10:31:06.910129+00", dt.datetime(2018, 11, 9, 10, 31, 6, 910129, tzinfo=UTC)),
        ("2020-03-29T11:04:10+02:00", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
        ("Sat, 18 May 2024 01:58:10 GMT", dt.datetime(2024, 5, 18, 1, 58, 10, tzinfo=UTC)),
        ("20240518015810", dt.datetime(2024, 5, 18, 1, 58, 10, tzinfo=UTC)),
        ("07.02.2017", dt.datetime(2017, 2, 7, tzinfo=UTC)),
        (dt.date(2017, 2, 7), dt.datetime(2017, 2, 7, tzinfo=UTC)),
        (0, dt.datetime(1970, 1, 1, tzinfo=UTC)),
        ("last tuesday", None),
        ("2017/13/45", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: object, expected: dt.datetime | None) -> None:
    assert parse_date(raw) == expected


def test_parse_dates_vectorised_matches_per_value() -> None:
    raw = ["2019-04-25 12:57:54", "2019-04-18 01:02:03"]
    dates, failed = parse_dates(raw)
    assert dates.to_pylist() == [parse_date(r).replace(tzinfo=None) for r in raw]  # type: ignore[union-attr]
    assert failed == [False, False]
    mixed = ["2017/2/7", "garbage", "2019-04-25T12:57:54Z"]
    dates, failed = parse_dates(mixed)
    assert list(dates) == [parse_date(r) for r in mixed]
    assert failed == [False, True, False]


def test_combine_license_with_version_column() -> None:
    assert combine_license("by-nc", "2.0", "license", "license_version") == (
        "by-nc 2.0",
        "record fields `license`='by-nc', `license_version`='2.0'",
    )
    assert combine_license("CC0", None, "license", None) == ("CC0", "record field `license`='CC0'")
