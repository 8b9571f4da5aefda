"""The settings tables of the recipe ([policy], [audit], [release], [run]) and [dataset] are
typed and checked once, when the recipe is read, with the file and line of the key at fault."""

from __future__ import annotations

import pickle
from importlib import resources
from pathlib import Path

import pytest

from datasteward.errors import RecipeError
from datasteward.recipe import AuditConfig, PolicyTable, parse_recipe
from datasteward.rights.policy_check import policy_of

BASE = """\
[dataset]
name = "tables"
language = "en"

[[stewards]]
name = "Ada"
email = "ada@example.org"

[[sources]]
name = "web"
format = "jsonl"
path = "x.jsonl"
derived_from = ["cc"]
"""

FULL = (
    BASE
    + """
[policy]
commercial = true
allowed_consent = ["explicit", "licence-only"]
deny_licenses = ["CC-BY-NC-ND-4.0"]

[[policy.accept]]
source = "web"
license = "unknown"
rule = "unknown_license"
decision_id = 3

[policy.upstream.cc]
license = "unknown"
url = "https://commoncrawl.org/terms-of-use"

[audit]
min_ratio = 2
lexicons = ["identity-en", "lex/mine.toml"]

[[audit.slices]]
name = "short"
sql = "length_words < 100"

[release]

[run]
"""
)


def _error(text: str, path: Path) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, path)
    return str(info.value)


def test_every_table_is_typed_and_frozen(tmp_path: Path) -> None:
    r = parse_recipe(FULL, tmp_path / "datasteward.toml")
    assert r.dataset.language == ("en",)  # one language may be written as a string
    assert r.stewards[0].role == "maintainer"
    assert isinstance(r.policy, PolicyTable)
    assert r.policy.commercial is True
    assert r.policy.allowed_consent == ("explicit", "licence-only")
    assert r.policy.deny_licenses == ("CC-BY-NC-ND-4.0",)
    (acc,) = r.policy.accept
    assert (acc.source, acc.license, acc.rule, acc.decision_id) == (
        "web",
        "unknown",
        "unknown_license",
        3,
    )
    assert acc.where.endswith("datasteward.toml:20")
    assert r.policy.upstream["cc"].url == "https://commoncrawl.org/terms-of-use"
    assert isinstance(r.audit, AuditConfig)
    assert r.audit.min_ratio == 2.0
    assert r.audit.lexicons == ("identity-en", str(tmp_path / "lex" / "mine.toml"))
    assert [(s.name, s.sql) for s in r.audit.slices] == [("short", "length_words < 100")]
    with pytest.raises(AttributeError):
        r.policy.commercial = False  # type: ignore[misc]
    # the rights domain builds its policy from the typed table
    policy = policy_of(r)
    assert policy.commercial and policy.accept[0].decision_id == 3
    # the whole model pickles (it crosses to worker processes in the step context)
    assert pickle.loads(pickle.dumps(r)) == r


def test_defaults_without_the_tables(tmp_path: Path) -> None:
    r = parse_recipe(BASE.replace('language = "en"\n', ""), tmp_path / "r.toml")
    assert r.dataset.language == ()
    assert r.policy == PolicyTable(where=f"{tmp_path / 'r.toml'} [policy]")
    assert r.audit == AuditConfig()


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (
            ("commercial = true", "commercial = 1"),
            16,
            ["`commercial` in [policy] must be true or false"],
        ),
        (
            ("commercial = true", "comercial = true"),
            16,
            ["unknown key `comercial` in [policy]", "commercial"],
        ),
        (
            ('"explicit", "licence-only"]', '"yes"]'),
            17,
            ["allowed_consent has unknown value(s) ['yes']"],
        ),
        (
            ("decision_id = 3", 'decision_id = "3"'),
            20,
            ["decision_id must be a ledger decision number"],
        ),
        (("decision_id = 3", "who = 3"), 20, ["needs source, license and decision"]),
        (
            ('url = "https://commoncrawl.org/terms-of-use"', "link = 1"),
            28,
            ["unknown key `link` in [policy.upstream.cc]"],
        ),
        (("min_ratio = 2", 'min_ratio = "2"'), 31, ["`min_ratio` in [audit] must be a number"]),
        (("min_ratio = 2", "min_raito = 2"), 31, ["unknown key `min_raito` in [audit]"]),
        (("min_ratio = 2", "min_ratio = 0.5"), 30, ["min_ratio must be >= 1"]),
        (
            ('sql = "length_words < 100"', "sql = 3"),
            34,
            ["[[audit.slices]] #1 needs `name` and `sql`"],
        ),
        (("[release]\n", "[release]\nshards = 4\n"), 39, ["unknown key `shards` in [release]"]),
        (("[run]\n", "[run]\nworkers = 2\n"), 41, ["unknown key `workers` in [run]"]),
        (
            ('language = "en"', "language = 3"),
            3,
            ["`language` in [dataset] must be a list of strings"],
        ),
        (('email = "ada@example.org"', "mail = 1"), 7, ["unknown key `mail` in [[stewards]]"]),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], line: int, words: list[str]
) -> None:
    text = FULL.replace(*change)
    assert text != FULL
    msg = _error(text, tmp_path / "datasteward.toml")
    assert f"datasteward.toml:{line}:" in msg
    for w in words:
        assert w in msg


def test_policy_rule_names_are_checked_by_the_rights_domain(tmp_path: Path) -> None:
    r = parse_recipe(
        FULL.replace('rule = "unknown_license"', 'rule = "vibes"'), tmp_path / "d.toml"
    )
    with pytest.raises(
        RecipeError, match=r"d\.toml:20: \[\[policy.accept\]\] has unknown rule 'vibes'"
    ):
        policy_of(r)


def test_the_init_template_parses() -> None:
    text = resources.files("datasteward.templates").joinpath("web-text.toml").read_text()
    r = parse_recipe(text.replace("{name}", "my-set"), Path("/tmp/my-set/datasteward.toml"))
    assert r.dataset.name == "my-set"
    assert [s.use for s in r.steps] == ["filter.length", "dedup.exact"]
    assert r.sources[0].consent == "unknown"
