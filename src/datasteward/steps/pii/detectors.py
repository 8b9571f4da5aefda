"""Detectors of personal data in text: each returns the spans it found.

Every detector is a cheap, linear-time regex that proposes candidates, followed by a
validation that rejects most look-alikes:

* ``email``: RFC 5321-sized local part and domain, a letter TLD; image names such as
  ``logo@2x.png`` are rejected.
* ``phone``: candidates of 7 to 15 digits with the usual separators, each validated by
  ``phonenumbers``' :class:`PhoneNumberMatcher` (leniency ``VALID``) on a small window around
  it, so the library's rules (valid ranges per region, no dates, no page ranges) apply while the
  cost stays proportional to the candidates, not to the text (see ``benchmarks/pii_phone.py``).
  National formats are read for one region or several in order; ``00``/``011`` before a
  country code is read as ``+``; ``1.212.790.3533`` (three dots, which version numbers also
  have) only after a word such as "call" or "phone".
* ``ip``: IPv4 dotted quads and IPv6 addresses that :mod:`ipaddress` parses and calls global
  (private, loopback, link-local, reserved, documentation and multicast ranges excluded).
* ``card``: 12 to 19 digits (spaces or hyphens allowed) that pass the Luhn check
  (``stdnum.luhn``) and start with an issuer prefix of a major card network, alone or
  followed by an expiry date (``12/25``).
* ``iban``: country code, check digits and BBAN, validated with ``stdnum.iban`` (country
  format and ISO 7064 mod 97-10 checksum).
* ``ssn``: US social security numbers written ``AAA-GG-SSSS`` (or with spaces), with the SSA's
  never-issued rules: area not 000, 666 or 900-999, group not 00, serial not 0000.

Overlaps are resolved by priority (the order of :data:`PII_TYPES`): a card number is not also
reported as a phone number.
"""

from __future__ import annotations

import bisect
import ipaddress
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

logger = logging.getLogger(__name__)

#: The kinds of personal data, in priority order for overlapping matches.
PII_TYPES: tuple[str, ...] = ("email", "iban", "card", "ssn", "ip", "phone")

#: The placeholder each kind is redacted to.
PLACEHOLDERS: dict[str, str] = {
    "email": "<EMAIL>",
    "iban": "<IBAN>",
    "card": "<CARD_NUMBER>",
    "ssn": "<SSN>",
    "ip": "<IP_ADDRESS>",
    "phone": "<PHONE>",
}


class Span(NamedTuple):
    start: int
    end: int
    type: str


# ---- e-mail --------------------------------------------------------------------------------
# The look-behind makes a match start only at the beginning of a run of local-part characters,
# so a 10 MB run of letters costs one bounded attempt, not one per position.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
_NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "bmp", "tif", "tiff", "ico"})


def find_emails(text: str) -> Iterator[Span]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        start, end = m.span()
        local, _, domain = m.group(0).rpartition("@")
        # Sentence punctuation is not part of an address: "(write to .x@y.com)".
        stripped = local.lstrip(".")
        start += len(local) - len(stripped)
        if not stripped or stripped.endswith(".") or ".." in stripped:
            continue
        if domain.rsplit(".", 1)[-1].lower() in _NOT_TLDS:
            continue
        yield Span(start, end, "email")


# ---- phone numbers ---------------------------------------------------------------------------
_PHONE_CANDIDATE = re.compile(
    r"[+(\d](?<![\w+].)(?:(?<=\d)|(?<=\+)\d|(?<=\()\s?\d)[\d()\s./\-]{5,24}\d"
    r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?!\w)",  # an optional extension: x123
    re.IGNORECASE,
)
_EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d+$", re.IGNORECASE)
_PHONE_WINDOW = 8


@lru_cache(maxsize=1)
def _phonenumbers() -> Any:
    import phonenumbers

    return phonenumbers


_DIGIT_GROUPS = re.compile(r"\d+")

#: At most this many phone-like candidates per document are validated (about 0.5 ms each).
#: Prose has a handful; a document with more is a table of numbers, and validating all of a
#: 10 MB one would take minutes. Later candidates in such a document are not reported.
MAX_PHONE_CANDIDATES = 2_000


#: An international call prefix written instead of ``+``: ``00`` (most of the world) or
#: ``011`` (North America), then the country code.
_IDD = re.compile(r"(?:00|011)[ .\-]?(?=[1-9])")
#: A North American number written with dots and its trunk prefix: ``1.212.790.3533``.
_DOTTED_NANP = re.compile(r"1\.\d{3}\.\d{3}\.\d{4}")
#: A date at the start of a candidate: ``07-30-2008``, ``2008.07.30``.
_DATE = re.compile(
    r"(?:\d{1,2}[\-./]\d{1,2}[\-./](?:19|20)\d\d|(?:19|20)\d\d[\-./]\d{1,2}[\-./]\d{1,2})(?!\d)"
)
#: Words that say the number after them is a phone number (within 25 characters).
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|text|phone|tel|fax|mobile|cell|contact|dial|ring|reach|sms|whatsapp|hotline|"
    r"helpline|ph)\b[^\n]{0,25}$",
    re.I,
)


def _international(pn: Any, raw: str) -> bool:
    """``0044 20 7946 0958``, ``011 49 30 901820``: valid once the prefix is read as ``+``."""
    idd = _IDD.match(raw)
    if idd is None or raw.isdigit():
        return False  # "0012345678905" without any separator: more often a product code
    try:
        number = pn.parse("+" + raw[idd.end() :], None)
    except pn.NumberParseException:
        return False
    return bool(pn.is_valid_number(number))


def find_phones(text: str, region: str | Sequence[str]) -> Iterator[Span]:
    """Phone numbers: written with ``+`` or an international prefix (``00``, ``011``) in any
    country, and in the national formats of ``region`` (one CLDR code, or several tried in
    order)."""
    pn = _phonenumbers()
    regions = (region,) if isinstance(region, str) else tuple(region)
    last_end = -1
    tried = 0
    for m in _PHONE_CANDIDATE.finditer(text):
        raw = _EXTENSION.sub("", m.group(0))
        groups = _DIGIT_GROUPS.findall(raw)
        digits = sum(len(g) for g in groups)
        if not 7 <= digits <= 17:
            continue
        idd = raw[0] == "0" and _IDD.match(raw) is not None
        if not raw.startswith("+") and not idd:
            if raw.count(".") >= 3 and not (
                _DOTTED_NANP.fullmatch(raw)
                and _PHONE_CONTEXT.search(text, max(0, m.start() - 40), m.start())
                and not _VERSION_CONTEXT.search(text, max(0, m.start() - 12), m.start())
            ):
                continue  # "16.0.7369.2017": a version number, unless the text calls it a phone
            if any(len(g) == 1 for g in groups[1:]):
                continue  # "1 2 3 4 5 6 7": national formats group digits in twos or more
            if _DATE.match(raw):
                continue  # "07-30-2008": valid in some national formats (DE), but a date
        tried += 1
        if tried > MAX_PHONE_CANDIDATES:
            logger.debug("pii: more than %d phone candidates; rest skipped", MAX_PHONE_CANDIDATES)
            return
        if idd and m.start() >= last_end and _international(pn, raw):
            last_end = m.start() + len(raw)
            yield Span(m.start(), last_end, "phone")
            continue
        lo = max(0, m.start() - _PHONE_WINDOW)
        hi = min(len(text), m.end() + _PHONE_WINDOW)
        window = text[lo:hi]
        for reg in regions:
            found = False
            for pm in pn.PhoneNumberMatcher(window, reg, leniency=pn.Leniency.VALID):
                start, end = lo + pm.start, lo + pm.end
                if start >= last_end:
                    last_end = end
                    found = True
                    yield Span(start, end, "phone")
            if found:
                break


# ---- IP addresses ----------------------------------------------------------------------------
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|:)?(?![\w:])")


def _public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return bool(ip.is_global) and not ip.is_multicast


_VERSION_CONTEXT = re.compile(r"(?:\bv|\bver|version|release|build|driver)\W{0,3}$", re.I)


def find_ips(text: str) -> Iterator[Span]:
    if "." in text:
        for m in _IPV4.finditer(text):
            address = m.group(0)
            # "Driver 14.0.1.0", "Ver. 4.23.0.0": version numbers look like addresses; a host
            # address rarely ends in .0 (that is the network address of a /24 or larger).
            if address.endswith(".0") or _VERSION_CONTEXT.search(
                text, max(0, m.start() - 12), m.start()
            ):
                continue
            if _public(address):
                yield Span(m.start(), m.end(), "ip")
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6.finditer(text):
            candidate = m.group(0)
            if candidate.count(":") >= 2 and _public(candidate):
                yield Span(m.start(), m.end(), "ip")


# ---- payment cards ---------------------------------------------------------------------------
# Patterns here start with a character class and put their look-behinds after the first
# character: Python's regex engine then skips ahead to candidate characters (3x faster on C4
# than a leading look-behind), and the look-behinds still start a match only at the beginning
# of a digit sequence, keeping a long run such as "1 1 1 1 ..." linear.
# A card number may be followed by its expiry date ("4111 1111 1111 1111 12/25"), but not by
# other digits (it would be part of a longer number).
_CARD = re.compile(
    r"\d(?<![\d\-]\d)(?<!\d[ \-]\d)(?:[ \-]?\d){11,18}"
    r"(?![\d\-/]|[ \-]\d(?!\d?/\d{2}(?:\d{2})?(?!\d)))"
)


def _card_network(digits: str) -> bool:
    """True if the number starts with an issuer prefix of a major network and has its length."""
    n = len(digits)
    p2, p4, p6 = int(digits[:2]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16  # Mastercard
    if p2 in (34, 37):
        return n == 15  # American Express
    if p4 == 6011 or 644 <= int(digits[:3]) <= 649 or p2 == 65 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19  # Discover
    if p2 == 35:
        return 16 <= n <= 19  # JCB
    if p4 in (2131, 1800):
        return n == 15  # JCB (older 15-digit range)
    if p2 in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return 14 <= n <= 19  # Diners Club
    if p2 == 62:
        return 16 <= n <= 19  # UnionPay
    if p2 in (50, 56, 57, 58, 63, 67):
        return 12 <= n <= 19  # Maestro
    return False


@lru_cache(maxsize=1)
def _stdnum() -> tuple[Any, Any]:
    from stdnum import iban, luhn

    return luhn, iban


def find_cards(text: str) -> Iterator[Span]:
    luhn, _ = _stdnum()
    for m in _CARD.finditer(text):
        raw = m.group(0)
        seps = {c for c in raw if not c.isdigit()}
        if len(seps) > 1:
            continue  # "1234-5678 9012-3456": mixed separators are not how cards are written
        digits = re.sub(r"\D", "", raw)
        if len(set(digits)) == 1:
            continue  # 0000 0000 0000 0000 passes Luhn
        if _card_network(digits) and luhn.is_valid(digits):
            yield Span(m.start(), m.end(), "card")


# ---- IBAN --------------------------------------------------------------------------------------
_IBAN = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


def find_ibans(text: str) -> Iterator[Span]:
    _, iban = _stdnum()
    for m in _IBAN.finditer(text):
        raw = m.group(0)
        # The greedy candidate may have swallowed a following word ("... 00 THEN"); try the
        # longest prefix that ends at a group boundary and validates.
        ends = [len(raw)] + [i for i in range(len(raw) - 1, 14, -1) if raw[i] == " "]
        for end in ends:
            if iban.is_valid(raw[:end]):
                yield Span(m.start(), m.start() + end, "iban")
                break


# ---- US social security numbers ----------------------------------------------------------------
_SSN = re.compile(r"(\d(?<![\d\-]\d)\d\d)([\- ])(\d{2})\2(\d{4})(?![\d\-]|[ \-]\d)")


_SSN_AS_PHONE = re.compile(r"\b(?:call|text|phone|tel|fax|mobile|cell)\b[^\n]{0,25}$", re.I)


def find_ssns(text: str) -> Iterator[Span]:
    for m in _SSN.finditer(text):
        area, group, serial = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if area == 0 or area == 666 or area >= 900 or group == 0 or serial == 0:
            continue
        if _SSN_AS_PHONE.search(text, max(0, m.start() - 40), m.start()):
            continue  # "Call Phillip @ 870-55-7550": a mistyped phone number
        yield Span(m.start(), m.end(), "ssn")


# ---- all together --------------------------------------------------------------------------------
def _detectors(region: str | Sequence[str]) -> dict[str, Callable[[str], Iterator[Span]]]:
    return {
        "email": find_emails,
        "iban": find_ibans,
        "card": find_cards,
        "ssn": find_ssns,
        "ip": find_ips,
        "phone": lambda text: find_phones(text, region),
    }


_HAS_DIGIT = re.compile(r"\d")


def find_pii(
    text: str,
    types: tuple[str, ...] = PII_TYPES,
    *,
    region: str = "US",
    regions: Sequence[str] = (),
) -> list[Span]:
    """Every span of the chosen kinds, without overlaps, sorted by position. Phone numbers
    without a country code are read in the national formats of ``regions`` (tried in order)
    or, when it is empty, of ``region``."""
    if not text:
        return []
    has_digit = _HAS_DIGIT.search(text) is not None
    detectors = _detectors(tuple(regions) or region)
    starts: list[int] = []
    accepted: list[Span] = []
    for kind in PII_TYPES:
        if kind not in types:
            continue
        if kind != "email" and not has_digit:
            continue
        for span in detectors[kind](text):
            i = bisect.bisect_left(starts, span.start)
            if i > 0 and accepted[i - 1].end > span.start:
                continue  # overlaps the span before it
            if i < len(accepted) and accepted[i].start < span.end:
                continue  # overlaps the span after it
            starts.insert(i, span.start)
            accepted.insert(i, span)
    return accepted


def redact(text: str, spans: list[Span]) -> str:
    """The text with each span replaced by its type's placeholder (spans sorted, disjoint)."""
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(PLACEHOLDERS[span.type])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
