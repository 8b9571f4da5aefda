"""Paths and types shared by the audit tests (a uniquely named module: ``conftest`` is
ambiguous when several test folders are collected together)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datafiles import OUTSIDE_DATA, data_file

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = OUTSIDE_DATA  # the tweets and articles; WORDS_FILE looks in tests/data first
WORDS_FILE = data_file("ldnoobw", "en.c4-25e679f")


@dataclass(frozen=True)
class BuiltRun:
    project: Path
    run_dir: Path
    badwords_step_id: str
