"""The PII detectors one by one: what they must find and the look-alikes they must not."""

from __future__ import annotations

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from datasteward.steps.pii import PLACEHOLDERS, find_pii, redact
from datasteward.steps.pii.detectors import (
    find_cards,
    find_emails,
    find_ibans,
    find_ips,
    find_phones,
    find_ssns,
)


def texts_of(text: str, spans: list) -> list[str]:  # type: ignore[type-arg]
    return [text[s.start : s.end] for s in spans]


def test_email() -> None:
    text = (
        "Write to jane.doe+news@mail.example.co.uk, (bob@example.org) or .x@y.io; "
        "not logo@2x.png, not a..b@example.com, not user@localhost."
    )
    assert texts_of(text, list(find_emails(text))) == [
        "jane.doe+news@mail.example.co.uk",
        "bob@example.org",
        "x@y.io",
    ]


def test_phone_valid_numbers_only() -> None:
    text = (
        "Call (406) 721-8899 or +44 20 7946 0958 or 1-800-882-7223. "
        "Not 555-0100, not 2019-04-25, not version 16.0.7369.2017, not 1 2 3 4 5 6 7 8 9 0."
    )
    found = texts_of(text, list(find_phones(text, "US")))
    assert found == ["(406) 721-8899", "+44 20 7946 0958", "1-800-882-7223"]


def test_phone_region_applies_to_national_numbers() -> None:
    text = "Ring 020 7946 0958 today."
    assert texts_of(text, list(find_phones(text, "GB"))) == ["020 7946 0958"]
    assert list(find_phones(text, "US")) == []


def test_ip_public_only() -> None:
    text = (
        "Server 8.8.8.8 and 2001:4860:4860::8888 are public; 192.168.1.20, 10.1.2.3, "
        "127.0.0.1, 169.254.0.9, 224.0.0.1, ::1, fe80::1 are not; 999.1.1.1 is no address; "
        "Driver 14.0.1.3 and v1.2.3.4 are versions; 12:30:45 is a time."
    )
    assert texts_of(text, list(find_ips(text))) == ["8.8.8.8", "2001:4860:4860::8888"]


def test_cards_luhn_and_network() -> None:
    text = (
        "Visa 4111 1111 1111 1111, Amex 3782-822463-10005, MC 5500000000000004. "
        "Not Luhn 4111 1111 1111 1112, not a network 9111111111111119, not 0000 0000 0000 0000."
    )
    assert texts_of(text, list(find_cards(text))) == [
        "4111 1111 1111 1111",
        "3782-822463-10005",
        "5500000000000004",
    ]


def test_iban_checksum() -> None:
    text = (
        "Pay DE89 3704 0044 0532 0130 00 THEN GB82WEST12345698765432 but not "
        "DE89 3704 0044 0532 0130 01 nor XX89370400440532013000."
    )
    assert texts_of(text, list(find_ibans(text))) == [
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
    ]


def test_ssn_never_issued_rules() -> None:
    text = (
        "SSN 123-45-6789 and 078 05 1120; never issued: 000-12-3456, 666-12-3456, "
        "912-12-3456, 123-00-4567, 123-45-0000; mixed 123-45 6789; long 123-45-67890."
    )
    assert texts_of(text, list(find_ssns(text))) == ["123-45-6789", "078 05 1120"]


def test_overlaps_resolved_by_priority() -> None:
    # A card number is also a valid-looking digit run; it must be reported once, as a card.
    text = "Card 4111 1111 1111 1111 and mail a@example.com."
    spans = find_pii(text)
    assert [(s.type, text[s.start : s.end]) for s in spans] == [
        ("card", "4111 1111 1111 1111"),
        ("email", "a@example.com"),
    ]
    assert redact(text, spans) == "Card <CARD_NUMBER> and mail <EMAIL>."


def test_faker_values_are_found_alone() -> None:
    fake = Faker("en_US")
    fake.seed_instance(20240601)
    for _ in range(50):
        for kind, value in (
            ("email", fake.email()),
            ("ip", fake.ipv4_public()),
            ("card", fake.credit_card_number()),
            ("iban", fake.iban()),
            ("ssn", fake.ssn()),
        ):
            text = f"Details: {value}. Thanks"
            spans = find_pii(text)
            assert [(s.type, text[s.start : s.end]) for s in spans] == [(kind, value)], text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x" * 2_000_000,
        "1" * 2_000_000,
        "1 " * 500_000,
        "a@" * 500_000,
        "AB12" * 300_000,
        ":" * 1_000_000,
        bytes(range(256)).decode("latin-1") * 2_000,
        "这是一个没有空格的中文句子，电话 13800138000，邮箱 zhang@example.cn。" * 1000,
        "ภาษาไทยไม่มีช่องว่าง โทร 02-123-4567 " * 1000,
        "caf\udce9 \udcff 4111 1111 1111 1111",
    ],
)
@pytest.mark.timeout(120)  # a hang guard, not a speed assertion (quadratic regexes would hit it)
def test_bad_input_is_bounded(text: str) -> None:
    spans = find_pii(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_redaction_invariants(text: str) -> None:
    spans = find_pii(text)
    out = redact(text, spans)
    # Every span is replaced by exactly its placeholder; nothing else changes.
    expected_len = (
        len(text)
        - sum(s.end - s.start for s in spans)
        + sum(len(PLACEHOLDERS[s.type]) for s in spans)
    )
    assert len(out) == expected_len
    if not spans:
        assert out == text
