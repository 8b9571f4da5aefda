"""``pii`` on real text: recall on C4 documents with planted PII, flags on untouched C4, and
agreement with Dolma's e-mail span attributes.

``python tests/steps/pii/test_pii_real_data.py`` prints the recall table and every span
flagged in the untouched C4 sample (the list reviewed in docs/steps/pii.md).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import pytest
from datafiles import data_file
from faker import Faker

from datasteward.steps.pii import PII_TYPES, find_pii

HERE = Path(__file__).resolve()
C4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
DOLMA = data_file("webtext", "dolma-test-data", "provided")

SEED = 20240601
DOCS_PER_TYPE = 150

#: How people write each kind in running text (the planted value goes where ``{}`` is).
CONTEXTS: dict[str, tuple[str, ...]] = {
    "email": ("Email me at {}.", "Questions? Write to {} anytime.", "Contact: {}"),
    "phone": ("Call us at {}.", "Phone: {}", "You can reach Sarah on {} after 5pm."),
    "ip": ("The server at {} stopped answering.", "Logged in from {} yesterday.", "IP {}"),
    "card": ("My card number is {}.", "Paid with {} exp 04/26.", "Card: {}"),
    "iban": ("Please transfer to {} (ref. invoice 12).", "IBAN: {}", "Account {} please."),
    "ssn": ("SSN: {}", "His social security number is {}.", "Applicant SSN {} on file."),
}


@dataclass
class Plant:
    kind: str
    value: str
    text: str
    start: int
    end: int


def fake_value(fake: Faker, kind: str, rng: random.Random) -> str:
    if kind == "email":
        return fake.email() if rng.random() < 0.5 else fake.free_email()
    if kind == "phone":
        return fake.phone_number()
    if kind == "ip":
        return fake.ipv4_public() if rng.random() < 0.7 else fake.ipv6()
    if kind == "card":
        number = fake.credit_card_number()
        if len(number) == 16 and rng.random() < 0.5:
            number = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        return number
    if kind == "iban":
        iban = fake.iban()
        if rng.random() < 0.5:
            iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return iban
    if kind == "ssn":
        return fake.ssn()
    raise ValueError(kind)


def planted(docs: list[str], seed: int = SEED) -> list[Plant]:
    """For each kind, DOCS_PER_TYPE real C4 documents with one value planted at a sentence
    boundary chosen at random (Faker and positions seeded)."""
    rng = random.Random(seed)
    fakes = {
        "iban": Faker(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT"]),
        "phone": Faker(["en_US", "en_US", "en_GB", "de_DE"]),
    }
    default = Faker("en_US")
    for f in [*fakes.values(), default]:
        f.seed_instance(seed)
    out = []
    for kind in PII_TYPES:
        fake = fakes.get(kind, default)
        for doc in rng.sample(docs, DOCS_PER_TYPE):
            value = fake_value(fake, kind, rng)
            sentence = rng.choice(CONTEXTS[kind])
            before, _, after = sentence.partition("{}")
            bounds = [0] + [m.end() for m in re.finditer(r"[.!?]\s+|\n", doc)]
            at = rng.choice(bounds)
            prefix = doc[:at] + ("" if at == 0 or doc[at - 1].isspace() else " ") + before
            text = prefix + value + after + " " + doc[at:]
            out.append(Plant(kind, value, text, len(prefix), len(prefix) + len(value)))
    return out


def phone_is_real(value: str, region: str = "US") -> bool:
    """Whether a Faker phone number is a number that could exist (libphonenumber metadata)."""
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(value, region)))
    except phonenumbers.NumberParseException:
        return False


def recall_table(docs: list[str]) -> dict[str, dict[str, float]]:
    """Per kind: planted, found (a span of the kind overlapping the plant), exact (same span)."""
    table: dict[str, dict[str, float]] = {}
    misses: dict[str, list[str]] = {}
    for p in planted(docs):
        row = table.setdefault(p.kind, {"planted": 0, "found": 0, "exact": 0})
        spans = [s for s in find_pii(p.text) if s.start < p.end and p.start < s.end]
        row["planted"] += 1
        if any(s.type == p.kind for s in spans):
            row["found"] += 1
            if any(s.type == p.kind and (s.start, s.end) == (p.start, p.end) for s in spans):
                row["exact"] += 1
        else:
            misses.setdefault(p.kind, []).append(p.value)
        if p.kind == "phone" and phone_is_real(p.value, "US"):
            real = table.setdefault(
                "phone (valid US numbers)", {"planted": 0, "found": 0, "exact": 0}
            )
            real["planted"] += 1
            if any(s.type == "phone" for s in spans):
                real["found"] += 1
                if any((s.start, s.end) == (p.start, p.end) for s in spans):
                    real["exact"] += 1
    for row in table.values():
        row["recall"] = row["found"] / row["planted"]
    table["_misses"] = {k: v[:8] for k, v in misses.items()}  # type: ignore[dict-item]
    return table


@pytest.mark.slow
def test_recall_on_planted_pii(c4_docs: list[str]) -> None:
    table = recall_table(c4_docs)
    # Floors a little under the measured figures in docs/steps/pii.md, so a regression fails.
    floors = {
        "email": 0.99,
        "ip": 0.95,
        "card": 0.95,
        "iban": 0.99,
        "ssn": 0.97,
        "phone (valid US numbers)": 0.95,
    }
    for kind, floor in floors.items():
        assert table[kind]["planted"] >= 50, kind
        assert table[kind]["recall"] >= floor, (kind, table[kind], table["_misses"])
    # Faker's US numbers are often impossible (area codes starting 0 or 1): those are missed
    # on purpose, so the overall phone recall is lower but not zero.
    assert 0.3 <= table["phone"]["recall"] <= table["phone (valid US numbers)"]["recall"]


def flagged_in_untouched(docs: list[str]) -> list[tuple[int, str, str, str]]:
    out = []
    for i, doc in enumerate(docs):
        for s in find_pii(doc):
            context = doc[max(0, s.start - 40) : s.end + 25].replace("\n", " ")
            out.append((i, s.type, doc[s.start : s.end], context))
    return out


def test_flags_on_untouched_c4_are_few_and_well_formed(c4_docs: list[str]) -> None:
    flags = flagged_in_untouched(c4_docs)
    by_kind = Counter(kind for _, kind, _, _ in flags)
    # Bounds well above the reviewed counts (docs/steps/pii.md) and far below what a loose
    # pattern finds (a bare 10-digit regex flags hundreds of C4 spans).
    assert by_kind["phone"] <= 80 and by_kind["email"] <= 40, by_kind
    assert sum(by_kind[k] for k in ("card", "ssn", "ip", "iban")) <= 10, by_kind
    assert len({i for i, *_ in flags}) <= 0.1 * len(c4_docs)
    for _, kind, value, _ in flags:
        if kind == "email":
            assert value.count("@") == 1 and "." in value.split("@")[1]
        if kind == "phone":
            assert sum(c.isdigit() for c in value) >= 7


def test_agrees_with_dolma_email_spans() -> None:
    docs_path = DOLMA / "documents" / "000.json.gz"
    attrs_path = DOLMA / "attributes" / "pii" / "000.json.gz"
    if not docs_path.exists():
        pytest.skip(f"shared data not found at {docs_path}")
    with gzip.open(docs_path, "rt", encoding="utf-8") as fh:
        docs = {d["id"]: d["text"] for d in map(json.loads, fh)}
    checked = 0
    with gzip.open(attrs_path, "rt", encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            text = docs[row["id"]]
            ours = {(s.start, s.end) for s in find_pii(text, ("email",))}
            theirs = row["attributes"].get("pii", {}).get("email", [])
            # Dolma's mixer redacts spans scored >= 0.5; lower ones are its negative examples
            assert {(s, e) for s, e, score in theirs if score >= 0.5} == ours
            checked += len(theirs)
    assert checked >= 3


if __name__ == "__main__":  # the tables in docs/steps/pii.md
    c4 = [json.loads(line)["text"] for line in C4.read_text(encoding="utf-8").splitlines()]
    t = recall_table(c4)
    misses = t.pop("_misses")
    sys.stdout.write("| kind | planted | found | exact span | recall |\n|---|---|---|---|---|\n")
    for kind, row in t.items():
        sys.stdout.write(
            f"| {kind} | {row['planted']:.0f} | {row['found']:.0f} | {row['exact']:.0f} "
            f"| {row['recall']:.3f} |\n"
        )
    sys.stdout.write(f"misses (first 8 per kind): {json.dumps(misses)}\n\n")
    for i, kind, value, context in flagged_in_untouched(c4):
        sys.stdout.write(f"{i}\t{kind}\t{value!r}\t{context!r}\n")
