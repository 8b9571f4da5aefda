"""tests/data: the redistributable fixtures a fresh clone tests with (issue 13, item 12).

Every fixture folder says where it came from and under which licence, unpacks to the bytes
its SOURCE.md names, is found before ../shared/data, and stays small; no test reaches for
../shared/data by a path of its own (they all go through datafiles.py).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
FIXTURES = sorted(p.parent for p in DATA.rglob("SOURCE.md"))
#: Shared folders whose terms forbid (or do not grant) redistribution: never copied here.
RESTRICTED = ("tweeteval", "movielens", "crowd-truth-inference", "article-extraction-benchmark")


def test_no_test_builds_its_own_path_to_the_shared_folder() -> None:
    own = re.compile(r"""["']shared["']\s*/\s*["']data["']|["']\.\.["']\s*/\s*["']shared["']""")
    offenders = [
        f"{p.relative_to(TESTS)}:{i}"
        for p in sorted(TESTS.rglob("*.py"))
        if p.name not in {"datafiles.py", Path(__file__).name}
        for i, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if own.search(line)
    ]
    assert offenders == [], "use datafiles.data_file/shared instead: " + ", ".join(offenders)


def test_the_fixtures_exist_and_are_small() -> None:
    assert len(FIXTURES) >= 8, FIXTURES
    size = sum(f.stat().st_size for f in DATA.rglob("*") if f.is_file())
    assert size < 5_000_000, size
    names = {p.name for p in DATA.rglob("*")}
    assert not names & set(RESTRICTED)


@pytest.mark.parametrize("folder", FIXTURES, ids=lambda p: str(p.relative_to(DATA)))
def test_each_fixture_states_origin_licence_and_cut(folder: Path) -> None:
    source = (folder / "SOURCE.md").read_text("utf-8")
    assert re.search(r"^- Licence: .*\*\*\w", source, re.M), "no licence line"
    assert re.search(r"^- Cut: ", source, re.M), "no line on how it was cut"
    assert "Repository: https://github.com/" in source, "no origin"
    licence_files = [p for p in folder.iterdir() if p.name.startswith("LICENSE")]
    assert licence_files or (folder / "README.md").is_file(), "no licence text beside the data"


@pytest.mark.parametrize("folder", FIXTURES, ids=lambda p: str(p.relative_to(DATA)))
def test_packed_files_unpack_to_the_bytes_source_md_names(folder: Path) -> None:
    from datafiles import LOCAL_DATA, PACKED, data_file

    parts = folder.relative_to(LOCAL_DATA).parts
    source = (folder / "SOURCE.md").read_text("utf-8")
    for packed in sorted(folder.rglob(f"*{PACKED}")):
        name = packed.relative_to(folder).as_posix()[: -len(PACKED)]
        plain = data_file(*parts, *name.split("/"))
        assert plain.is_file() and not plain.is_relative_to(LOCAL_DATA), plain
        assert plain.as_posix().endswith(f"{'/'.join(parts)}/{name}")  # the tail is kept
        assert hashlib.sha256(plain.read_bytes()).hexdigest() in source, name


def test_tests_data_comes_before_the_shared_folder() -> None:
    from datafiles import LOCAL_DATA, OUTSIDE_DATA, data_file

    assert data_file("ldnoobw", "en.c4-25e679f") == LOCAL_DATA / "ldnoobw" / "en.c4-25e679f"
    c4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    assert len(c4.read_text("utf-8").splitlines()) == 1000
    # what tests/data lacks is looked up outside, whether or not it is there
    tweets = data_file("benchmarks", "tweeteval", "hate", "test_text.txt")
    assert tweets == OUTSIDE_DATA / "benchmarks" / "tweeteval" / "hate" / "test_text.txt"
