"""The tokeniser rules copied into ``_spacy_en.py`` are still those of the installed spaCy."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from datasteward.steps.text import _spacy_en

pytest.importorskip("spacy", reason="spacy is a dev dependency")


def test_tables_match_installed_spacy() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_spacy_tables", Path(__file__).with_name("make_spacy_tables.py")
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    t = mod.tables()
    if t["SPACY_VERSION"] != _spacy_en.SPACY_VERSION:
        pytest.skip(
            f"tables made with spaCy {_spacy_en.SPACY_VERSION}, {t['SPACY_VERSION']} installed"
        )
    assert t["PREFIX"] == _spacy_en.PREFIX
    assert t["SUFFIX"] == _spacy_en.SUFFIX
    assert t["INFIX"] == _spacy_en.INFIX
    assert t["URL"] == _spacy_en.URL
    assert t["SPECIAL_CASES"] == _spacy_en.SPECIAL_CASES
