"""Classify a licence the way the Data Provenance Initiative does (Longpre et al. 2023).

For every licence: its permitted **use** (``commercial``, ``non-commercial``,
``academic-only`` or ``unspecified``), whether it requires **attribution**, and whether it is
**share-alike** or **no-derivatives**. Creative Commons licences are classified from their
elements (BY, NC, ND, SA); other licences from ``_data/licenses.toml`` and, failing that, from
the category ScanCode gives the licence (Permissive, Copyleft, Public Domain...).

Terms combine with the most-restrictive rule (:func:`combine`): the strictest use wins
(``academic-only`` > ``non-commercial`` > ``unspecified`` > ``commercial``), attribution and
share-alike accumulate, and an unknown licence makes the combination unknown.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from datasteward.rights.licenses import UNKNOWN, license_data, scancode_index, spdx_licensing

Use = Literal["commercial", "unspecified", "non-commercial", "academic-only"]

#: Uses from least to most restrictive.
USES: tuple[Use, ...] = ("commercial", "unspecified", "non-commercial", "academic-only")
_RANK = {u: i for i, u in enumerate(USES)}

_CC = re.compile(
    r"^(?:LicenseRef-)?CC-(?P<elements>BY(?:-NC)?(?:-ND|-SA)?|SA|NC|ND|ND-NC|NC-SA)"
    r"(?:-(?P<version>\d\.\d))?(?:-(?P<port>[A-Z]{2,3}))?$",
    re.IGNORECASE,
)
_PUBLIC_DOMAIN_TOOLS = {"cc0-1.0", "cc-pdm-1.0", "cc-pddc"}

#: ScanCode categories -> (use, attribution, share_alike).
_CATEGORY: dict[str, tuple[Use, bool | None, bool]] = {
    "Permissive": ("commercial", True, False),
    "Public Domain": ("commercial", False, False),
    "Copyleft": ("commercial", True, True),
    "Copyleft Limited": ("commercial", True, True),
}


@dataclass(frozen=True)
class LicenseTerms:
    """The terms of one licence (or of a combination of licences)."""

    license: str
    known: bool
    use: Use
    #: True if the licence requires crediting the author; None if that is not known.
    attribution: bool | None
    share_alike: bool
    no_derivatives: bool
    #: How the terms were determined: ``creative-commons``, ``table``, ``scancode:<category>``,
    #: ``unknown``, ``combined``.
    basis: str

    @property
    def commercial_ok(self) -> bool:
        return self.known and self.use == "commercial"

    def as_dict(self) -> dict[str, object]:
        return {
            "license": self.license,
            "known": self.known,
            "use": self.use,
            "attribution": self.attribution,
            "share_alike": self.share_alike,
            "no_derivatives": self.no_derivatives,
            "basis": self.basis,
        }


def unknown_terms(license: str = UNKNOWN) -> LicenseTerms:
    return LicenseTerms(license, False, "unspecified", None, False, False, "unknown")


def _classify_key(key: str) -> LicenseTerms:
    low = key.lower()
    if low == UNKNOWN:
        return unknown_terms()
    if low in _PUBLIC_DOMAIN_TOOLS:
        return LicenseTerms(key, True, "commercial", False, False, False, "creative-commons")
    m = _CC.match(key)
    if m:
        elements = set(m.group("elements").upper().split("-"))
        return LicenseTerms(
            key,
            True,
            "non-commercial" if "NC" in elements else "commercial",
            "BY" in elements,
            "SA" in elements,
            "ND" in elements,
            "creative-commons",
        )
    table = license_data()["terms"].get(key)
    if table is not None:
        return LicenseTerms(
            key,
            True,
            table.get("use", "unspecified"),
            table.get("attribution"),
            bool(table.get("share_alike", False)),
            bool(table.get("no_derivatives", False)),
            "table",
        )
    entry = scancode_index().get(low)
    if entry is not None:
        category = str(entry.get("category", ""))
        use, attribution, share_alike = _CATEGORY.get(category, ("unspecified", None, False))
        return LicenseTerms(
            key, True, use, attribution, share_alike, False, f"scancode:{category or 'none'}"
        )
    return unknown_terms(key)


def combine(terms: Iterable[LicenseTerms], *, license: str | None = None) -> LicenseTerms:
    """Combine terms that all apply (a derived work, ``A AND B``): the most restrictive wins.

    Use: the strictest. Attribution: required if any requires it; unknown if any is unknown and
    none requires it. Share-alike and no-derivatives accumulate. Any unknown licence makes the
    result unknown (its known restrictions are still reported).
    """
    items = list(terms)
    if not items:
        return unknown_terms()
    if len(items) == 1 and license is None:
        return items[0]
    attribution: bool | None
    if any(t.attribution for t in items):
        attribution = True
    elif any(t.attribution is None for t in items):
        attribution = None
    else:
        attribution = False
    known = all(t.known for t in items)
    if license is None:
        ids = list(dict.fromkeys(t.license for t in items))
        license = " AND ".join(ids) if known else UNKNOWN
    return LicenseTerms(
        license,
        known,
        max((t.use for t in items), key=_RANK.__getitem__),
        attribution,
        any(t.share_alike for t in items),
        any(t.no_derivatives for t in items),
        "combined",
    )


def _least_restrictive(items: list[LicenseTerms], license: str) -> LicenseTerms:
    """``A OR B``: the user may pick, so the least restrictive known option applies."""
    known = [t for t in items if t.known]
    if not known:
        return unknown_terms(license)

    def strictness(t: LicenseTerms) -> tuple[int, int, int, int]:
        return (_RANK[t.use], int(bool(t.attribution)), int(t.share_alike), int(t.no_derivatives))

    return replace(min(known, key=strictness), license=license, basis="choice")


@functools.lru_cache(maxsize=4096)
def classify(license: str | None) -> LicenseTerms:
    """The terms of an SPDX id or expression (``AND``: all apply; ``OR``: the user chooses)."""
    if license is None or not license.strip() or license.strip().lower() == UNKNOWN:
        return unknown_terms()
    text = license.strip()
    if " " not in text:
        return _classify_key(text)
    try:
        parsed = spdx_licensing().parse(text, validate=False)
    except Exception:  # noqa: BLE001 - garbage in, unknown out
        return unknown_terms(text)
    return _classify_expr(parsed, text)


def _classify_expr(expr: object, text: str) -> LicenseTerms:
    from license_expression import AND, OR, LicenseSymbol, LicenseWithExceptionSymbol

    if isinstance(expr, LicenseWithExceptionSymbol):
        return _classify_key(str(expr.license_symbol.key))
    if isinstance(expr, LicenseSymbol):
        return _classify_key(str(expr.key))
    args = [_classify_expr(a, str(a)) for a in getattr(expr, "args", ())]
    if isinstance(expr, AND):
        return combine(args, license=text if all(a.known for a in args) else UNKNOWN)
    if isinstance(expr, OR):
        return _least_restrictive(args, text)
    return unknown_terms(text)
