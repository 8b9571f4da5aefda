"""``pii``: find personal data (e-mail, phone, public IP, card, IBAN, US SSN) in text, count
it per record, and annotate, redact with typed placeholders, or remove."""

from datasteward.steps.pii.detectors import PII_TYPES, PLACEHOLDERS, Span, find_pii, redact
from datasteward.steps.pii.step import Pii, PiiOptions

__all__ = ["PII_TYPES", "PLACEHOLDERS", "Pii", "PiiOptions", "Span", "find_pii", "redact"]
