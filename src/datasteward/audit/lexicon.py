"""Term lexicons: groups of terms whose mention puts a record in a slice.

A lexicon is a TOML file::

    name = "datasteward-identity-en"
    version = "1.0.0"
    [groups.religion]
    label = "Religion"
    terms = ["muslim", "muslims", "jewish", ...]

Matching: case-insensitive; a term matches where it is flanked by ASCII non-word characters
(or the ends of the text); a space or hyphen inside a term matches any run of white space
(``\\t \\n \\f \\r`` and space) or hyphens; an apostrophe matches ``'`` or ``’``.

All terms of all lexicons are compiled into **one** regular expression, run once per record in
DuckDB (RE2) with ``regexp_extract_all``; the matches are normalised and mapped to the groups
whose terms they contain. Because RE2 returns non-overlapping matches, a term that lies inside
a longer match ("men" inside "gay men") or that overlaps the end of one ("african american"
after "south african") would be lost; the compiler therefore maps each alternative to every
group whose terms it contains, and adds the merged phrase of every pair of terms that overlap
by whole words, so that the groups found are exactly those a term-by-term search would find.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from datasteward.errors import RecipeError

#: The separators a space or hyphen in a term stands for (RE2's ``\\s`` plus ``-``).
SEPARATOR = r"[\t\n\f\r \-]+"
_SPLIT = re.compile(r"[\t\n\f\r \-]+")
_VALID_TERM = re.compile(r"[a-z0-9_][a-z0-9_ '\-]*[a-z0-9_]|[a-z0-9_]")
_GROUP_NAME = re.compile(r"[a-z0-9_]+")
BUILTIN = "identity-en"


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """A versioned list of term groups."""

    name: str
    version: str
    groups: tuple[Group, ...]
    path: str
    language: str = "en"
    #: The slice dimension its groups appear under in the audit (default: the name).
    dimension: str = ""

    @property
    def slice_dimension(self) -> str:
        return self.dimension or self.name


def normalise(term: str) -> str:
    """The canonical form of a term or of a matched string: lower case, one space, ASCII '."""
    return _SPLIT.sub(" ", term.lower().replace("’", "'")).strip()


def load_lexicon(path: str | Path | None = None, *, dimension: str = "") -> Lexicon:
    """Load a lexicon file; ``None`` or ``"identity-en"`` is the built-in identity lexicon."""
    if path is None or str(path) == BUILTIN:
        ref = resources.files("datasteward.audit").joinpath("lexicons", f"{BUILTIN}.toml")
        text, where = ref.read_text(encoding="utf-8"), f"(built-in) {BUILTIN}.toml"
        dimension = dimension or "identity"
    else:
        p = Path(path)
        try:
            text, where = p.read_text(encoding="utf-8"), str(p)
        except OSError as exc:
            raise RecipeError(
                f"cannot read the lexicon {p}: {exc.strerror or exc}",
                hint="pass a TOML file with name, version and [groups.NAME] terms = [...]",
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"lexicon {where} is not valid TOML: {exc}") from None
    return _parse(data, where, dimension)


def _parse(data: dict[str, object], where: str, dimension: str) -> Lexicon:
    def fail(msg: str) -> RecipeError:
        return RecipeError(
            f"lexicon {where}: {msg}",
            hint='expected: name = "...", version = "...", [groups.NAME] label = "...", '
            'terms = ["...", ...]',
        )

    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str) or not name.strip():
        raise fail("needs a non-empty `name`")
    if not isinstance(version, str) or not version.strip():
        raise fail("needs a `version` string (bump it whenever the terms change)")
    groups_raw = data.get("groups")
    if not isinstance(groups_raw, dict) or not groups_raw:
        raise fail("needs at least one [groups.NAME] table")
    groups = []
    for gname, g in groups_raw.items():
        if not _GROUP_NAME.fullmatch(gname):
            raise fail(f"group name {gname!r} must be lower-case letters, digits or _")
        if not isinstance(g, dict) or not isinstance(g.get("terms"), list) or not g["terms"]:
            raise fail(f"group {gname!r} needs a non-empty `terms` list")
        terms = []
        for t in g["terms"]:
            if not isinstance(t, str):
                raise fail(f"group {gname!r}: terms must be strings, got {t!r}")
            norm = normalise(t)
            if not _VALID_TERM.fullmatch(norm):
                raise fail(
                    f"group {gname!r}: term {t!r} must be ASCII letters, digits, _, spaces, "
                    "hyphens or apostrophes, starting and ending with a letter or digit"
                )
            terms.append(norm)
        label = g.get("label", gname)
        groups.append(Group(name=gname, label=str(label), terms=tuple(dict.fromkeys(terms))))
    lang = data.get("language", "en")
    return Lexicon(
        name=name.strip(),
        version=version.strip(),
        groups=tuple(groups),
        path=where,
        language=str(lang),
        dimension=dimension,
    )


def _term_regex(term: str) -> str:
    words = term.split(" ")
    return SEPARATOR.join(re.escape(w).replace("'", "['’]") for w in words)


@dataclass(frozen=True)
class CompiledLexicons:
    """One RE2 pattern for all terms, and which slices each normalised match belongs to."""

    pattern: str
    #: normalised alternative -> set of (dimension, group)
    groups_of: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    #: every (dimension, group) in order
    slices: tuple[tuple[str, str], ...] = ()

    def terms_sql(self, text_sql: str) -> str:
        """SQL: the distinct normalised matches in a text (a VARCHAR list)."""
        pattern = "'" + self.pattern.replace("'", "''") + "'"
        return (
            f"list_distinct(list_transform(regexp_extract_all(coalesce({text_sql}, ''), "
            f"{pattern}, 1, 'i'), lambda x: trim(regexp_replace(replace(lower(x), "
            r"'’', ''''), '[\t\n\f\r \-]+', ' ', 'g'))))"
        )

    def group_sql(self, terms_sql: str, dimension: str, group: str) -> str:
        """SQL: whether the matches (from ``terms_sql``) put the record in this group."""
        alts = ", ".join(
            "'" + a.replace("'", "''") + "'" for a in self.alternatives_for(dimension, group)
        )
        return f"list_has_any({terms_sql}, [{alts}]::VARCHAR[])"

    def alternatives_for(self, dimension: str, group: str) -> list[str]:
        """The normalised alternatives whose match puts a record in this slice."""
        key = (dimension, group)
        return sorted(a for a, gs in self.groups_of.items() if key in gs)


def _contains(outer: str, inner: str) -> bool:
    return f" {inner} " in f" {outer} "


def compile_lexicons(lexicons: list[Lexicon]) -> CompiledLexicons:
    """Compile lexicons into one pattern (see the module docstring for why this is exact)."""
    owners: dict[str, set[tuple[str, str]]] = {}
    slices: list[tuple[str, str]] = []
    for lex in lexicons:
        for g in lex.groups:
            key = (lex.slice_dimension, g.name)
            if key in slices:
                raise RecipeError(
                    f"two lexicons define group {g.name!r} under slice {lex.slice_dimension!r}",
                    hint="give one of them another dimension (its `name`)",
                )
            slices.append(key)
            for t in g.terms:
                owners.setdefault(t, set()).add(key)
    terms = list(owners)
    alternatives = set(terms)
    # phrases where a term ends with the words another begins with ("south african" +
    # "african american"): add the merged phrase so leftmost-first matching loses neither
    words = {t: t.split(" ") for t in terms}
    for a in terms:
        wa = words[a]
        for b in terms:
            wb = words[b]
            if a == b or _contains(a, b) or _contains(b, a):
                continue
            for k in range(1, min(len(wa), len(wb))):
                if wa[-k:] == wb[:k]:
                    alternatives.add(" ".join(wa + wb[k:]))
    groups_of: dict[str, frozenset[tuple[str, str]]] = {}
    for alt in alternatives:
        found: set[tuple[str, str]] = set()
        for t in terms:
            if _contains(alt, t):
                found |= owners[t]
        groups_of[alt] = frozenset(found)
    ordered = sorted(alternatives, key=lambda s: (-len(s), s))
    pattern = r"\b(" + "|".join(_term_regex(a) for a in ordered) + r")\b"
    return CompiledLexicons(pattern=pattern, groups_of=groups_of, slices=tuple(slices))
