"""Rights: licences, consent, opt-out signals, suppression, policy checks and attribution.

See docs/rights.md. The steps (``rights.license_normalize``, ``rights.license_detect``,
``rights.optout``, ``rights.policy``) are found by name through the step registry.
"""

from __future__ import annotations

from datasteward.rights.consent import CONSENT_VALUES, consent_summary, normalize_consent
from datasteward.rights.licenses import UNKNOWN, LicenseResult, normalize_license
from datasteward.rights.lineage import Lineage, resolve_source
from datasteward.rights.notice import write_notice
from datasteward.rights.optout_signals import AI_AGENTS, OptOut, SitePolicies
from datasteward.rights.optout_signals import decide as decide_optout
from datasteward.rights.policy_check import Policy, Violation, check
from datasteward.rights.policy_fetcher import PolicyFetcher
from datasteward.rights.suppression import SuppressionList
from datasteward.rights.terms import LicenseTerms, classify, combine

__all__ = [
    "AI_AGENTS",
    "CONSENT_VALUES",
    "UNKNOWN",
    "LicenseResult",
    "LicenseTerms",
    "Lineage",
    "OptOut",
    "Policy",
    "PolicyFetcher",
    "SitePolicies",
    "SuppressionList",
    "Violation",
    "check",
    "classify",
    "combine",
    "consent_summary",
    "decide_optout",
    "normalize_consent",
    "normalize_license",
    "resolve_source",
    "write_notice",
]
