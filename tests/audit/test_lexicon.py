"""The lexicon: loading, validation, and one-pass matching that equals a term-by-term search."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasteward.audit.lexicon import compile_lexicons, load_lexicon, normalise
from datasteward.errors import RecipeError


def test_builtin_lexicon_is_versioned_and_has_the_seven_groups() -> None:
    lex = load_lexicon()
    assert lex.name == "datasteward-identity-en"
    assert re.fullmatch(r"\d+\.\d+\.\d+", lex.version)
    assert [g.name for g in lex.groups] == [
        "gender", "sexual_orientation", "gender_identity", "race_ethnicity", "religion",
        "disability", "nationality",
    ]
    for g in lex.groups:
        assert len(g.terms) >= 20, g.name
        assert all(t == normalise(t) for t in g.terms)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('name = "x"\n[groups.a]\nterms = ["b"]\n', "version"),
        ('name = "x"\nversion = "1"\n', "at least one"),
        ('name = "x"\nversion = "1"\n[groups.a]\nterms = []\n', "non-empty `terms`"),
        ('name = "x"\nversion = "1"\n[groups.a]\nterms = ["<b>"]\n', "ASCII letters"),
        ('name = "x"\nversion = "1"\n[groups.A-b]\nterms = ["b"]\n', "lower-case"),
        ("name = [", "not valid TOML"),
    ],
)
def test_bad_lexicons_are_refused_with_what_to_fix(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "lex.toml"
    p.write_text(body)
    with pytest.raises(RecipeError, match=re.escape(message)):
        load_lexicon(p)


def test_missing_lexicon_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="cannot read the lexicon"):
        load_lexicon(tmp_path / "nope.toml")


def _direct(lexicons, text: str) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Term by term, with Python's re (an independent implementation of the same rule)."""
    found = set()
    for lex in lexicons:
        for g in lex.groups:
            for t in g.terms:
                words = [re.escape(w).replace("'", "['’]") for w in t.split(" ")]
                body = r"[\t\n\f\r \-]+".join(words)
                if re.search(r"(?<![A-Za-z0-9_])" + body + r"(?![A-Za-z0-9_])", text,
                             re.IGNORECASE | re.ASCII):
                    found.add((lex.slice_dimension, g.name))
                    break
    return found


def _duck(compiled, texts: list[str]) -> list[set[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, text VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    cols = ", ".join(compiled.group_sql("m", *k) for k in compiled.slices)
    rows = con.execute(
        f"SELECT i, {cols} FROM (SELECT i, {compiled.terms_sql('text')} AS m FROM t) ORDER BY i"
    ).fetchall()
    return [{k for k, hit in zip(compiled.slices, r[1:], strict=True) if hit} for r in rows]


def test_overlapping_terms_across_groups_are_all_found(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        'name = "places"\nversion = "0.1"\n[groups.country]\nterms = ["south african", "africa"]\n'
    )
    lexicons = [load_lexicon(), load_lexicon(extra)]
    compiled = compile_lexicons(lexicons)
    texts = [
        "Gay men and lesbians marched.",            # "men" inside "gay men": gender too
        "a South African-American author",          # crossing: race and nationality
        "South  African americans",                 # separators, case, plural
        "she is a Jehovah’s Witness",               # typographic apostrophe
        "the mansion; womenfolk; ungay",            # no whole-word match
        "LGBTQ+ rights",                            # '+' is a boundary
        "",
    ]
    got = _duck(compiled, texts)
    for text, groups in zip(texts, got, strict=True):
        assert groups == _direct(lexicons, text), text
    assert ("identity", "race_ethnicity") in got[1] and ("identity", "nationality") in got[1]
    assert ("identity", "gender") in got[0]


_WORDS = sorted({w for g in load_lexicon().groups for t in g.terms for w in t.split(" ")})[:400]
_FILLER = ["the", "of", "a", "African", "south", "man's", "x", "123", "é", "—", "__"]
_SEP = [" ", "  ", "-", "\n", "\t", ", ", ".", "'", "’", "", "/"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(st.sampled_from(_WORDS + _FILLER), st.sampled_from(_SEP)),
                         max_size=12), min_size=1, max_size=20))
def test_one_pass_matching_equals_term_by_term_search(docs: list[list[tuple[str, str]]]) -> None:
    lexicons = [load_lexicon()]
    compiled = compile_lexicons(lexicons)
    # every third word upper-cased: matching ignores case
    texts = ["".join((w.upper() if i % 3 == 0 else w) + s for i, (w, s) in enumerate(d))
             for d in docs]
    for text, groups in zip(texts, _duck(compiled, texts), strict=True):
        assert groups == _direct(lexicons, text), text
