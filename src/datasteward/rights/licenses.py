"""Normalise the licence strings real data carries to SPDX ids.

``license-expression`` (its bundled SPDX list and ScanCode's licence index) does the real work;
this module only puts a small mapping layer in front of it for what dataset metadata carries
and the library cannot parse:

* Creative Commons URLs (``http://creativecommons.org/licenses/by/2.0/``, ``.../deed.en``,
  ``.../legalcode``, jurisdiction ports such as ``.../by-nd-nc/2.0/jp/``, badge images under
  ``i.creativecommons.org/l/...`` and ``licensebuttons.net/l/...``);
* Creative Commons short codes and names (``"CC BY-SA 4.0"``, ``"by-nc"`` with a separate version
  column, ``"cc0"``, ``"pdm"``, ``"Attribution-NonCommercial 2.0 Generic"``);
* spelled-out names and non-CC licence URLs (``"Apache 2.0"``, ``"ODC-By"``,
  ``opendatacommons.org/licenses/odbl/``) from ``_data/licenses.toml``.

What cannot be resolved becomes ``unknown``; the original string is always kept as evidence.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

UNKNOWN = "unknown"

#: Values that mean "no licence given" (compared lower-cased, stripped).
_EMPTY = {"", "none", "null", "nan", "n/a", "na", "unknown", "-", "?", "other", "not specified"}

#: Creative Commons versions of the unported / international licences.
_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")


@dataclass(frozen=True)
class LicenseResult:
    """One normalised licence string.

    ``spdx`` is an SPDX id or expression (``LicenseRef-`` ids where SPDX has none) or
    ``unknown``; ``original`` is the input exactly as given; ``method`` says which rule resolved
    it (``spdx``, ``alias``, ``cc-url``, ``cc-code``, ``url``, ``scancode``, ``completed``) or why
    not (``empty``, ``unresolved``); ``note`` flags data problems found on the way (a CC0 with a
    version other than 1.0, a port that SPDX does not list...).
    """

    spdx: str
    original: str | None
    method: str
    note: str | None = None

    @property
    def resolved(self) -> bool:
        return self.spdx != UNKNOWN

    def evidence(self, prefix: str = "") -> str:
        """A one-line evidence string for the ``license_evidence`` column."""
        head = f"{prefix}: " if prefix else ""
        text = f"{head}{self.original!r} -> {self.spdx} ({self.method})"
        return f"{text}; {self.note}" if self.note else text


# ---- the data file and the library ------------------------------------------------------------
@functools.cache
def license_data() -> dict[str, Any]:
    """The licence table shipped with datasteward (``_data/licenses.toml``), parsed once."""
    text = resources.files("datasteward.rights").joinpath("_data/licenses.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def spdx_licensing() -> Any:
    """The ``license_expression`` SPDX licensing object, built once."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@functools.cache
def _scancode_licensing() -> Any:
    from license_expression import get_scancode_licensing

    return get_scancode_licensing()


@functools.cache
def scancode_index() -> dict[str, dict[str, Any]]:
    """ScanCode's licence index (bundled with license-expression), by key and by SPDX id."""
    import json
    import os

    import license_expression

    path = os.path.join(
        os.path.dirname(license_expression.__file__), "data", "scancode-licensedb-index.json"
    )
    with open(path, encoding="utf-8") as fh:
        entries = json.load(fh)
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        out[e["license_key"].lower()] = e
        if e.get("spdx_license_key"):
            out.setdefault(e["spdx_license_key"].lower(), e)
    return out


@functools.cache
def spdx_ids() -> dict[str, str]:
    """Every SPDX id the bundled list knows, lower-cased -> canonical spelling."""
    out: dict[str, str] = {}
    for key in spdx_licensing().known_symbols:
        if not key.lower().startswith("licenseref-"):
            out[key.lower()] = key
    return out


def is_spdx_id(key: str) -> bool:
    return key.lower() in spdx_ids()


# ---- Creative Commons -------------------------------------------------------------------------
_ELEMENT_WORDS = {
    "by": "BY",
    "attribution": "BY",
    "nc": "NC",
    "noncommercial": "NC",
    "nd": "ND",
    "noderivatives": "ND",
    "noderivs": "ND",
    "sa": "SA",
    "sharealike": "SA",
}
_FILLER = {
    "cc",
    "creative",
    "commons",
    "license",
    "licence",
    "licensed",
    "under",
    "international",
    "unported",
    "generic",
    "universal",
    "public",
    "the",
    "a",
    "deed",
    "legalcode",
    "version",
    "v",
    "ver",
    "and",
    "tool",
    "dedication",
    "waiver",
}
_PHRASES = (
    (re.compile(r"non[\s_-]*commercial"), "noncommercial"),
    (re.compile(r"no[\s_-]*deriv(?:ative)?s?(?:[\s_-]*works)?"), "noderivatives"),
    (re.compile(r"share[\s_-]*alike"), "sharealike"),
    (re.compile(r"cc[\s_-]*zero"), "cc0"),
    (re.compile(r"public[\s_-]*domain[\s_-]*mark"), "pdm"),
    (re.compile(r"\bcc[\s_-]?pdm\b"), "pdm"),
)
_VERSION = re.compile(r"^v?(\d)(?:\.(\d))?$")
_ORDER = ("BY", "NC", "ND", "SA")


def _norm_version(token: str | None) -> str | None:
    if token is None:
        return None
    m = _VERSION.match(token.strip().lower())
    if not m:
        return None
    return f"{m.group(1)}.{m.group(2) or '0'}"


def cc_id(
    elements: set[str], version: str | None, jurisdiction: str | None = None
) -> tuple[str, str | None]:
    """The id of a CC licence from its elements: SPDX where listed, else ``LicenseRef-CC-...``.

    Returns (id, note). A missing version gives ``LicenseRef-CC-<elements>`` (terms known,
    version not), noted.
    """
    if "ND" in elements and "SA" in elements:
        raise ValueError("a Creative Commons licence cannot be both ND and SA")
    code = "-".join(e for e in _ORDER if e in elements)
    if version is None:
        return f"LicenseRef-CC-{code}", "version not stated"
    key = f"CC-{code}-{version}"
    if jurisdiction:
        ported = f"{key}-{jurisdiction.upper()}"
        if is_spdx_id(ported):
            return spdx_ids()[ported.lower()], None
        return f"LicenseRef-{ported}", "jurisdiction port not in the SPDX list"
    if is_spdx_id(key):
        return spdx_ids()[key.lower()], None
    if version not in _CC_VERSIONS:
        return f"LicenseRef-{key}", f"CC {code} {version} exists only as jurisdiction ports"
    return f"LicenseRef-{key}", "not in the SPDX list"


def _public_domain_tool(kind: str, version: str | None) -> tuple[str, str | None]:
    spdx = "CC0-1.0" if kind == "zero" else "CC-PDM-1.0"
    name = "CC0" if kind == "zero" else "the Public Domain Mark"
    if version not in (None, "1.0"):
        return spdx, f"version {version} ignored: {name} exists only as 1.0"
    return spdx, None


def _from_cc_url(text: str) -> tuple[str, str | None] | None:
    raw = text.strip()
    if "://" not in raw:
        raw = "http://" + raw.lstrip("/")
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not (host.endswith("creativecommons.org") or host.endswith("licensebuttons.net")):
        return None
    segs = [s for s in parts.path.lower().split("/") if s]
    # badges: /l/by-sa/4.0/88x31.png, /p/zero/1.0/88x31.png
    if segs and segs[0] in ("l", "licenses"):
        if len(segs) >= 2 and segs[1] == "publicdomain":
            return "LicenseRef-scancode-public-domain", "retired CC public-domain certification"
        if len(segs) < 2:
            return None
        elements = set()
        for tok in segs[1].split("-"):
            if tok not in ("by", "nc", "nd", "sa"):
                return None
            elements.add(tok.upper())
        version = _norm_version(segs[2]) if len(segs) >= 3 else None
        juris = None
        if len(segs) >= 4 and re.fullmatch(r"[a-z]{2,3}", segs[3]):
            juris = segs[3]
        try:
            return cc_id(elements, version, juris)
        except ValueError:
            return None
    if segs and segs[0] in ("p", "publicdomain") and len(segs) >= 2:
        if segs[1] in ("zero", "mark"):
            version = _norm_version(segs[2]) if len(segs) >= 3 else None
            return _public_domain_tool(segs[1], version)
    return None


def _from_cc_code(text: str, version_column: str | None) -> tuple[str, str | None] | None:
    s = text.lower()
    for pattern, repl in _PHRASES:
        s = pattern.sub(repl, s)
    tokens = [t for t in re.split(r"[\s\-_/,;:()\[\]]+", s) if t]
    elements: set[str] = set()
    version: str | None = None
    tool: str | None = None
    saw_cc = False
    for tok in tokens:
        if tok in ("cc", "creative", "commons"):
            saw_cc = True
        if tok in _ELEMENT_WORDS:
            elements.add(_ELEMENT_WORDS[tok])
        elif tok in ("cc0", "zero"):
            tool = "zero"
        elif tok == "pdm":
            tool = "mark"
        elif _norm_version(tok) is not None:
            version = _norm_version(tok)
        elif tok == "ccby":
            elements.add("BY")
            saw_cc = True
        elif tok not in _FILLER:
            return None
    if version is None:
        version = _norm_version(version_column)
    if tool is not None and not elements:
        return _public_domain_tool(tool, version)
    if not elements or tool is not None:
        return None
    if "BY" not in elements and not saw_cc and elements != {"SA"}:
        return None
    try:
        return cc_id(elements, version)
    except ValueError:
        return None


# ---- everything else --------------------------------------------------------------------------
def _from_url(text: str) -> str | None:
    raw = text.strip().lower()
    if "://" not in raw and not raw.startswith("www."):
        return None
    raw = re.sub(r"^[a-z]+://", "", raw)
    raw = raw.removeprefix("www.").rstrip("/")
    for prefix, spdx in license_data()["urls"].items():
        if raw == prefix or raw.startswith(prefix + "/") or raw.startswith(prefix + "."):
            return str(spdx)
    return None


def _parse_spdx(text: str) -> str | None:
    """A valid SPDX id or expression, canonically spelled; None if the library says no."""
    licensing = spdx_licensing()
    try:
        info = licensing.validate(text)
    except Exception:  # noqa: BLE001 - the library raises several error types on garbage
        return None
    if info.errors or not info.normalized_expression:
        return None
    return str(info.normalized_expression)


def _slug(text: str) -> str:
    s = text.strip().lower()
    s = re.sub(r"\b(the|license|licence|version|public)\b", " ", s)
    s = re.sub(r"\bv(?=\d)", "", s)
    s = re.sub(r"[\s_,]+", "-", s).strip("-")
    return re.sub(r"-{2,}", "-", s)


def _from_library(text: str) -> tuple[str, str] | None:
    spdx = _parse_spdx(text)
    if spdx is not None:
        return spdx, "spdx"
    slug = _slug(text)
    if not slug:
        return None
    for candidate in (slug, slug + ".0" if re.search(r"-\d+$", slug) else None):
        if candidate is None:
            continue
        spdx = _parse_spdx(candidate)
        if spdx is not None:
            return spdx, "spdx"
        entry = scancode_index().get(candidate)
        if entry is not None and entry.get("spdx_license_key") and not entry.get("is_exception"):
            return str(entry["spdx_license_key"]), "scancode"
    # a bare name with exactly one version in the SPDX list: "odc-by" -> ODC-By-1.0
    matches = [
        canonical
        for key, canonical in spdx_ids().items()
        if re.fullmatch(re.escape(slug) + r"-\d+(\.\d+)*(-only)?", key)
    ]
    if len(matches) == 1:
        return matches[0], "completed"
    return None


def normalize_license(value: object, version: object = None) -> LicenseResult:
    """Normalise one licence string (and an optional separate version column) to SPDX.

    >>> normalize_license("by-nc", "2.0").spdx
    'CC-BY-NC-2.0'
    >>> normalize_license("http://creativecommons.org/licenses/by/2.0/").spdx
    'CC-BY-2.0'
    """
    original = None if value is None else str(value)
    text = "" if original is None else " ".join(original.split())
    vcol = None if version is None else str(version).strip() or None
    if text.lower() in _EMPTY:
        return LicenseResult(UNKNOWN, original, "empty")
    alias = license_data()["aliases"].get(text.lower())
    if alias is not None:
        return LicenseResult(str(alias), original, "alias")
    got = _from_cc_url(text)
    if got is not None:
        return LicenseResult(got[0], original, "cc-url", got[1])
    url = _from_url(text)
    if url is not None:
        return LicenseResult(url, original, "url")
    if "://" in text:
        return LicenseResult(UNKNOWN, original, "unresolved", "URL of an unknown licence")
    got = _from_cc_code(text, vcol)
    if got is not None:
        return LicenseResult(got[0], original, "cc-code", got[1])
    lib = _from_library(text)
    if lib is not None:
        return LicenseResult(lib[0], original, lib[1])
    return LicenseResult(UNKNOWN, original, "unresolved")


@functools.lru_cache(maxsize=65536)
def normalize_cached(value: str | None, version: str | None = None) -> LicenseResult:
    """:func:`normalize_license` memoised on (value, version): columns repeat few values."""
    return normalize_license(value, version)
