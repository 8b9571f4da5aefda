# ruff: noqa: T201 - a benchmark script prints its table
"""Recall and precision of ``pii`` per kind on planted values, beside datatrove's PIIFormatter.

The generator: for each kind, ``--per-kind`` real C4 documents
(../shared/data/webtext/c4-en-sample-1000) get one value made by Faker (seeded) inside a
sentence of the kind people write ("Call us at {}.", "IBAN: {}"), at a random sentence
boundary. Phone numbers are drawn until libphonenumber calls them valid (Faker draws area
codes at random; an impossible number is not a phone number anyone has) and are written in
the forms people use: national formats of the US, the UK and Germany, ``+`` international,
``00`` before the country code, and US numbers with dots (``1.212.790.3533``) after "call".

Scoring, per planted document: a span that overlaps the planted value and has its kind is a
true positive (recall: planted values with one); any other span inside the planted sentence
is a false positive of the kind it claims. Spans elsewhere in the document are the host's own
text, the same with and without the plant, and are reviewed on the untouched C4 sample in
docs/steps/pii.md. Precision = true / (true + false) of each kind.

datatrove 0.10.1's ``PIIFormatter`` finds e-mail addresses and (public) IPv4 addresses only;
its spans are its own regular expressions and validator, run with its defaults.

    .venv-bench/bin/python benchmarks/pii_recall.py                  # ~1 minute
    .venv-bench/bin/python benchmarks/pii_recall.py --regions US     # national formats: US only
    git show 515f345:src/datasteward/steps/pii/detectors.py > /tmp/old_detectors.py
    .venv-bench/bin/python benchmarks/pii_recall.py --speed-against /tmp/old_detectors.py

Times are CPU seconds of this process (``time.process_time``).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from faker import Faker

from datasteward.steps.pii import Span, find_pii

C4 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "webtext"
C4 = C4 / "c4-en-sample-1000" / "c4_sample.jsonl"
SEED = 1818


# ---- the generator of planted values ----------------------------------------------------------
@dataclass(frozen=True)
class Plant:
    label: str  # the row of the table
    kind: str  # the PII kind it should be found as
    text: str  # the document with the sentence planted
    start: int  # the value's span in ``text``
    end: int
    lo: int  # the planted sentence's span in ``text``
    hi: int


def _valid_phone(fake: Faker, region: str) -> phonenumbers.PhoneNumber:
    while True:
        value = fake.phone_number()
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if (
            phonenumbers.is_valid_number(number)
            and phonenumbers.region_code_for_number(number) == region
        ):
            return number


class Generator:
    """Faker values of every kind, seeded, each with the sentences it is planted in."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        locales = ["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT"]
        self.fake = {loc: Faker(loc) for loc in locales}
        for i, f in enumerate(self.fake.values()):
            f.seed_instance(seed + i)
        self.us = self.fake["en_US"]

    def phone(self, fmt: str) -> str:
        region, locale = self.rng.choice([("US", "en_US"), ("GB", "en_GB"), ("DE", "de_DE")])
        if fmt.startswith("national "):
            region = fmt.removeprefix("national ")
            locale = {"US": "en_US", "GB": "en_GB", "DE": "de_DE"}[region]
        number = _valid_phone(self.fake[locale], region)
        intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if fmt.startswith("national"):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if fmt == "+international":
            return intl
        if fmt == "00 prefix":
            return self.rng.choice(["00", "00 "]) + intl.removeprefix("+")
        if fmt == "dotted US":
            digits = phonenumbers.format_number(
                _valid_phone(self.us, "US"), phonenumbers.PhoneNumberFormat.E164
            )[1:]
            return f"{digits[0]}.{digits[1:4]}.{digits[4:7]}.{digits[7:]}"
        raise ValueError(fmt)

    def card(self) -> str:
        number = self.us.credit_card_number(
            card_type=self.rng.choice(["visa16", "mastercard", "amex", "discover", "jcb16"])
        )
        if len(number) == 16 and self.rng.random() < 0.5:
            number = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        return number

    def ipv6(self) -> str:
        while True:
            value = self.us.ipv6()
            if ipaddress.ip_address(value).is_global:
                return value

    def iban(self) -> str:
        locale = self.rng.choice(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT"])
        value = self.fake[locale].iban()
        if self.rng.random() < 0.5:
            value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        return value

    def rows(self) -> list[tuple[str, str, Callable[[], str], tuple[str, ...]]]:
        """(label, kind, value maker, sentences) of each row of the table."""
        call = ("Call us at {}.", "Phone: {}", "You can reach Sarah on {} after 5pm.")
        return [
            ("email", "email", self.us.email, ("Email me at {}.", "Contact: {}")),
            ("email (free mail)", "email", self.us.free_email, ("Write to {} anytime.",)),
            ("phone, US national", "phone", lambda: self.phone("national US"), call),
            ("phone, UK national", "phone", lambda: self.phone("national GB"), call),
            ("phone, DE national", "phone", lambda: self.phone("national DE"), call),
            ("phone, +international", "phone", lambda: self.phone("+international"), call),
            ("phone, 00 prefix", "phone", lambda: self.phone("00 prefix"), call),
            ("phone, dotted US 1.NNN.NNN.NNNN", "phone", lambda: self.phone("dotted US"), call),
            ("ip, IPv4 public", "ip", self.us.ipv4_public, ("The server at {} is down.",)),
            ("ip, IPv6 global", "ip", self.ipv6, ("Logged in from {} yesterday.",)),
            ("card", "card", self.card, ("My card number is {}.", "Card: {}")),
            ("card + expiry date", "card", self.card, ("Card {}",)),  # + " 12/25, thanks."
            ("iban", "iban", self.iban, ("Please transfer to {} (ref. 12).", "IBAN: {}")),
            ("ssn", "ssn", self.us.ssn, ("SSN: {}", "His social security number is {}.")),
        ]

    def plants(self, docs: list[str], per_kind: int) -> list[Plant]:
        out = []
        for label, kind, make, sentences in self.rows():
            for doc in self.rng.sample(docs, per_kind):
                value = make()
                sentence = self.rng.choice(sentences)
                before, _, after = sentence.partition("{}")
                if label == "card + expiry date":
                    after = " " + self.us.credit_card_expire() + ", thanks."
                bounds = [0] + [m.end() for m in re.finditer(r"[.!?]\s+|\n", doc)]
                at = self.rng.choice(bounds)
                head = doc[:at] + ("" if at == 0 or doc[at - 1].isspace() else " ")
                text = head + before + value + after + " " + doc[at:]
                start = len(head) + len(before)
                hi = start + len(value) + len(after)
                out.append(Plant(label, kind, text, start, start + len(value), len(head), hi))
        return out


# ---- the two detectors ------------------------------------------------------------------------
def datatrove_spans() -> Callable[[str], list[Span]]:
    from datatrove.pipeline.formatters.pii import PIIFormatter

    fmt = PIIFormatter()

    def spans(text: str) -> list[Span]:
        out = [Span(*m.span(), "email") for m in fmt.emails_replacer.regex.finditer(text)]
        ip = fmt.ip_replacer
        out += [
            Span(*m.span(), "ip")
            for m in ip.regex.finditer(text)
            if ip.validator is None or ip.validator(m.group(0))
        ]
        return out

    return spans


@dataclass
class Score:
    planted: int = 0
    found: int = 0
    exact: int = 0


def score(
    plants: list[Plant], find: Callable[[str], list[Span]]
) -> tuple[dict[str, Score], dict[str, list[int]], float]:
    """Per row: planted/found/exact; per kind: [true, false] spans; CPU seconds."""
    rows: dict[str, Score] = {}
    kinds: dict[str, list[int]] = {}
    t0 = time.process_time()
    found = [find(p.text) for p in plants]
    took = time.process_time() - t0
    for p, spans in zip(plants, found, strict=True):
        row = rows.setdefault(p.label, Score())
        row.planted += 1
        inside = [s for s in spans if s.start < p.hi and p.lo < s.end]
        hit = [s for s in inside if s.type == p.kind and s.start < p.end and p.start < s.end]
        if hit:
            row.found += 1
            row.exact += any((s.start, s.end) == (p.start, p.end) for s in hit)
        for s in inside:
            tally = kinds.setdefault(s.type, [0, 0])
            tally[0 if s in hit else 1] += 1
    return rows, kinds, took


def speed_against(old_detectors: Path, rounds: int = 9) -> None:
    """CPU time of this ``detectors.py`` against another (e.g. an older commit's, from
    ``git show REV:src/datasteward/steps/pii/detectors.py``), loaded side by side and run in
    turn over the C4 sample: the best of ``rounds`` for phones (US) and all six kinds."""
    import importlib.util
    import sys

    from datasteward.steps.pii import detectors as new

    spec = importlib.util.spec_from_file_location("old_detectors", old_detectors)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {old_detectors}")
    old = importlib.util.module_from_spec(spec)
    sys.modules["old_detectors"] = old
    spec.loader.exec_module(old)
    docs = [json.loads(x)["text"] for x in C4.read_text("utf-8").splitlines()]
    best: dict[tuple[str, str], float] = {}
    for _ in range(rounds):
        for name, mod in (("before", old), ("after", new)):
            for what, run in (
                ("phones", lambda d, mod=mod: list(mod.find_phones(d, "US"))),
                ("all six", lambda d, mod=mod: mod.find_pii(d)),
            ):
                t0 = time.process_time()
                for d in docs:
                    run(d)
                took = time.process_time() - t0
                best[(name, what)] = min(best.get((name, what), took), took)
    for (name, what), took in best.items():
        print(f"{name:6} {what:8} {len(docs) / took:,.0f} docs/s CPU (best of {rounds})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-kind", type=int, default=200, help="planted documents per row")
    ap.add_argument("--regions", default="US,GB,DE", help="pii's phone regions (comma-separated)")
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--speed-against", type=Path, help="an older detectors.py to time against")
    args = ap.parse_args()
    if args.speed_against:
        speed_against(args.speed_against)
        return
    docs = [json.loads(x)["text"] for x in C4.read_text("utf-8").splitlines()]
    plants = Generator(SEED).plants(docs, args.per_kind)
    regions = tuple(args.regions.split(","))
    ours, ours_kinds, ours_time = score(plants, lambda t: find_pii(t, regions=regions))
    theirs: dict[str, Score] = {}
    theirs_kinds: dict[str, list[int]] = {}
    theirs_time = 0.0
    if not args.no_datatrove:
        theirs, theirs_kinds, theirs_time = score(plants, datatrove_spans())
    print(f"{len(plants):,} planted C4 documents (seed {SEED}); pii regions = {list(regions)}")
    print()
    print("| planted | n | pii recall | pii exact span | datatrove PIIFormatter recall |")
    print("|---|---|---|---|---|")
    for label, r in ours.items():
        t = theirs.get(label)
        kind = next(p.kind for p in plants if p.label == label)
        dt = f"{t.found / t.planted:.3f}" if t and kind in ("email", "ip") else "—"
        ok, exact = r.found / r.planted, r.exact / r.planted
        print(f"| {label} | {r.planted} | {ok:.3f} | {exact:.3f} | {dt} |")
    print()
    print("| kind | pii true spans | pii false spans | pii precision | datatrove precision |")
    print("|---|---|---|---|---|")
    for kind in ("email", "phone", "ip", "card", "iban", "ssn"):
        tp, fp = ours_kinds.get(kind, [0, 0])
        ttp, tfp = theirs_kinds.get(kind, [0, 0])
        dt = f"{ttp / (ttp + tfp):.3f} ({ttp}/{ttp + tfp})" if ttp + tfp else "—"
        prec = f"{tp / (tp + fp):.3f}" if tp + fp else "—"
        print(f"| {kind} | {tp} | {fp} | {prec} | {dt} |")
    print()
    print(f"CPU: pii {ours_time:.2f} s ({len(plants) / ours_time:,.0f} docs/s)", end="")
    if theirs_time:
        print(f"; datatrove {theirs_time:.2f} s ({len(plants) / theirs_time:,.0f} docs/s)")
    else:
        print()
    for p in plants:  # every false span, to read
        for s in find_pii(p.text, regions=regions):
            if (
                s.start < p.hi
                and p.lo < s.end
                and not (s.type == p.kind and s.start < p.end and p.start < s.end)
            ):
                planted, span = p.text[p.lo : p.hi], p.text[s.start : s.end]
                print(f"  false {s.type} in '{p.label}': {planted!r} -> {span!r}")
    misses = {}
    for p in plants:
        spans = find_pii(p.text, regions=regions)
        if not any(s.type == p.kind and s.start < p.end and p.start < s.end for s in spans):
            misses.setdefault(p.label, []).append(p.text[p.start : p.end])
    for label, values in misses.items():
        print(f"  missed {label} ({len(values)}): {values[:6]}")


if __name__ == "__main__":
    main()
