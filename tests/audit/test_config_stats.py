"""The [audit] table, CLI slice options, Wilson intervals and the flag rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasteward.audit.config import config_from_table, parse_slice_option
from datasteward.audit.stats import Rate, is_flagged, wilson
from datasteward.errors import RecipeError


def test_audit_table_is_read_with_paths_relative_to_the_recipe(tmp_path: Path) -> None:
    cfg = config_from_table(
        {"min_ratio": 2, "lexicons": ["identity-en", "lex/mine.toml"],
         "slices": [{"name": "short", "sql": "length_words < 100"}]},
        base_dir=tmp_path,
    )
    assert cfg.min_ratio == 2.0
    assert cfg.lexicons == ("identity-en", str(tmp_path / "lex" / "mine.toml"))
    assert cfg.slices[0].sql == "length_words < 100"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"min_raito": 2}, "unknown key `min_raito`"),
        ({"min_ratio": 0.5}, "min_ratio must be >= 1"),
        ({"confidence": 1.0}, "confidence"),
        ({"samples": "five"}, r"`samples` in \[audit\] must be an integer"),
        ({"slices": [{"name": "x"}]}, "needs `name` and `sql`"),
        ({"slices": [{"name": "1x", "sql": "true"}]}, "must start with a letter"),
        ({"lexicons": "identity-en"}, r"`lexicons` in \[audit\] must be a list of strings"),
    ],
)
def test_bad_audit_tables_say_what_to_fix(table: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=message):
        config_from_table(table, base_dir=tmp_path)


def test_slice_option_is_name_equals_sql() -> None:
    s = parse_slice_option("long = length_words >= 1000")
    assert (s.name, s.sql) == ("long", "length_words >= 1000")
    with pytest.raises(RecipeError, match="NAME=SQL"):
        parse_slice_option("length_words")


def test_wilson_known_values() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert wilson(0, 0) == (0.0, 1.0)


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_wilson_contains_the_rate_and_narrows_with_confidence(k: int, extra: int) -> None:
    n = k + extra
    lo, hi = wilson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    lo99, hi99 = wilson(k, n, 0.99)
    assert lo99 <= lo + 1e-12 and hi <= hi99 + 1e-12


def test_flag_rule() -> None:
    overall = Rate.of(100, 10_000, 0.95)  # 1%
    assert is_flagged(Rate.of(30, 1000, 0.95), overall, min_ratio=1.5, min_records=30)
    # a high rate on too few records, or an interval reaching down to the overall rate
    assert not is_flagged(Rate.of(2, 20, 0.95), overall, min_ratio=1.5, min_records=30)
    assert not is_flagged(Rate.of(3, 150, 0.95), overall, min_ratio=1.5, min_records=30)
    # markedly more often but not by the ratio asked for
    assert not is_flagged(Rate.of(130, 10_000, 0.95), overall, min_ratio=1.5, min_records=30)
    assert not is_flagged(Rate.of(30, 1000, 0.95), overall, min_ratio=1.5, min_records=30,
                          min_removed=31)
    assert not is_flagged(Rate.of(30, 1000, 0.95), Rate.of(0, 100, 0.95), min_ratio=1.5,
                          min_records=30)
