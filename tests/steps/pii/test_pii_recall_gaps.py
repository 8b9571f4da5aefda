"""``pii`` recall gaps of issue #18, each planted (Faker, seeded) in real C4 documents:

* phone numbers of several regions' national formats (``regions``), ``region`` still the
  one-region form;
* international-prefix forms ``00 44 …``, ``0044…``, ``011 44 …``;
* dotted US numbers ``1.212.790.3533`` when the text says it is a phone number, while version
  numbers (``v1.2.3.4``, ``version 10.0.19041.1``) stay rejected;
* a card number followed by its expiry date (``4111 1111 1111 1111 12/25``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import phonenumbers
import pyarrow as pa
import pytest
from faker import Faker

from datasteward.errors import StepError
from datasteward.steps.base import StepContext
from datasteward.steps.pii import Pii, PiiOptions, find_pii
from datasteward.steps.registry import build_step

Make = Callable[[list[str | None]], pa.RecordBatch]
SEED = 1818


def plant(doc: str, sentence: str, rng: random.Random) -> tuple[str, int]:
    """The document with ``sentence`` at a random sentence boundary, and where it starts."""
    bounds = [0] + [m.end() for m in re.finditer(r"[.!?]\s+|\n", doc)]
    at = rng.choice(bounds)
    sep = "" if at == 0 or doc[at - 1].isspace() else " "
    return doc[:at] + sep + sentence + " " + doc[at:], at + len(sep)


def valid_numbers(locale: str, region: str, count: int) -> list[str]:
    """Faker phone numbers of a locale that libphonenumber calls valid for the region, as
    Faker writes them (national formats)."""
    fake = Faker(locale)
    fake.seed_instance(SEED)
    out: list[str] = []
    while len(out) < count:
        value = fake.phone_number()
        if value.startswith("+"):
            continue
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            out.append(value)
    return out


def found_phone(text: str, start: int, value: str, **kw: object) -> bool:
    spans = find_pii(text, ("phone",), **kw)  # type: ignore[arg-type]
    return any(s.start < start + len(value) and start < s.end for s in spans)


def recall(docs: list[str], values: list[str], sentence: str, **kw: object) -> float:
    rng = random.Random(SEED)
    hits = 0
    for value in values:
        text, at = plant(rng.choice(docs), sentence.format(value), rng)
        start = at + sentence.index("{}")
        hits += found_phone(text, start, value, **kw)
    return hits / len(values)


# ---- regions --------------------------------------------------------------------------------
def test_regions_reads_each_regions_national_format(c4_docs: list[str]) -> None:
    uk = valid_numbers("en_GB", "GB", 60)
    de = valid_numbers("de_DE", "DE", 60)
    us = valid_numbers("en_US", "US", 60)
    sentence = "For bookings call {} (office hours)."
    assert recall(c4_docs, uk, sentence, region="US") <= 0.1  # the gap: one region only
    both = {"regions": ("US", "GB", "DE")}
    assert recall(c4_docs, uk, sentence, **both) >= 0.95
    assert recall(c4_docs, de, sentence, **both) >= 0.95
    assert recall(c4_docs, us, sentence, **both) >= 0.95
    assert recall(c4_docs, uk, sentence, region="GB") >= 0.95  # the one-region form


def test_regions_option_and_region_still_work(tmp_path: Path, make_batch: Make) -> None:
    ctx = StepContext(run_dir=tmp_path, step_id="pii", recipe_dir=tmp_path)
    batch = make_batch(["Ring 020 7946 0958 today or 0151 496 0536, or (212) 790-3533."])
    counts = {}
    for name, opts in {
        "us": {},
        "gb": {"region": "GB"},
        "both": {"regions": ["GB", "US"]},
    }.items():
        step = build_step("pii", {"types": ["phone"], **opts})
        assert isinstance(step, Pii)
        counts[name] = step.process(batch, ctx).kept.column("pii_phone_count").to_pylist()[0]
    assert counts == {"us": 1, "gb": 2, "both": 3}
    assert PiiOptions(regions=("GB", "US")).phone_regions == ("GB", "US")
    assert PiiOptions(region="DE").phone_regions == ("DE",)
    with pytest.raises(StepError, match="regions"):
        build_step("pii", {"regions": ["US", "XX"]})
    with pytest.raises(StepError, match="region"):
        build_step("pii", {"region": "DE", "regions": ["GB"]})


# ---- international prefixes -------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["00 ", "00", "011 "], ids=["00-space", "00-joined", "011"])
def test_international_prefix_forms(c4_docs: list[str], prefix: str) -> None:
    values = []
    for region, locale in (("GB", "en_GB"), ("DE", "de_DE")):
        for value in valid_numbers(locale, region, 40):
            number = phonenumbers.parse(value, region)
            intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            values.append(prefix + intl.removeprefix("+"))  # "+44 20 7946 0958" -> "0044 20 …"
    assert recall(c4_docs, values, "Call {} from abroad.", region="US") >= 0.95


# ---- dotted numbers and version numbers --------------------------------------------------------
def test_dotted_us_numbers_with_phone_context(c4_docs: list[str]) -> None:
    values = []
    for value in valid_numbers("en_US", "US", 60):
        number = phonenumbers.parse(value, "US")
        digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
        values.append(f"{digits[0]}.{digits[1:4]}.{digits[4:7]}.{digits[7:]}")  # 1.212.790.3533
    for sentence in ("Call {} for details.", "Phone: {}", "Tel. {} (mornings)", "fax {}"):
        assert recall(c4_docs, values, sentence) >= 0.95, sentence


@pytest.mark.parametrize(
    "text",
    [
        "Install v1.2.3.4 first.",
        "Windows version 10.0.19041.1 is required.",
        "Call the helpdesk if version 10.0.19041.1 fails to start.",
        "with the version number of 16.0.7369.2017 or later",
        "Build 1.212.790.3533 of the tool.",
    ],
)
def test_version_numbers_are_not_phones(text: str) -> None:
    assert [s for s in find_pii(text) if s.type == "phone"] == []


# ---- a card and its expiry date -----------------------------------------------------------------
def test_card_followed_by_expiry_date(c4_docs: list[str]) -> None:
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    rng = random.Random(SEED)
    hits = 0
    total = 0
    for _ in range(100):
        number = fake.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex"]))
        if len(number) == 16 and rng.random() < 0.5:
            number = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        expiry = fake.credit_card_expire()  # MM/YY
        sentence = f"Card {number} {expiry}, cvv {fake.credit_card_security_code()}."
        text, at = plant(rng.choice(c4_docs), sentence, rng)
        start = at + len("Card ")
        spans = [s for s in find_pii(text) if s.type == "card"]
        total += 1
        hits += any(s.start == start and s.end == start + len(number) for s in spans)
    assert hits / total >= 0.99
    assert [s.type for s in find_pii("4111 1111 1111 1111 12/25")] == ["card"]


@pytest.mark.parametrize(
    "text", ["Submitted: 07-30-2008 by larryf", "in Bavaria.\n04-26-2011 10:11:33 | M"]
)
def test_dates_are_not_phones_in_any_region(text: str) -> None:
    """Real DCLM lines: German national formats accept these digit groups as numbers."""
    assert find_pii(text, ("phone",), regions=("US", "GB", "DE")) == []
