"""The consent vocabulary: the values of the ``consent`` column, of a source's ``consent`` key
and of ``[policy] allowed_consent`` (what each value means: :mod:`datasteward.rights.consent`).

It lives on the recipe's floor because the recipe is where consent is first declared; the
rights package reads and summarises it.
"""

from __future__ import annotations

from datasteward.errors import RecipeError

CONSENT_VALUES: tuple[str, ...] = ("explicit", "licence-only", "opt-out-honoured", "unknown")

#: Spellings accepted on input and what they mean.
CONSENT_ALIASES: dict[str, str] = {
    "license-only": "licence-only",
    "licence_only": "licence-only",
    "license_only": "licence-only",
    "opt-out": "opt-out-honoured",
    "opt-out-honored": "opt-out-honoured",
    "opt_out_honoured": "opt-out-honoured",
    "": "unknown",
}


def normalize_consent(value: str | None, *, where: str = "") -> str:
    """The vocabulary value for ``value`` (case and US spellings forgiven).

    Raises :class:`RecipeError` naming the allowed values if it is not one of them.
    """
    if value is None:
        return "unknown"
    v = value.strip().lower()
    v = CONSENT_ALIASES.get(v, v)
    if v not in CONSENT_VALUES:
        loc = f"{where}: " if where else ""
        raise RecipeError(
            f"{loc}unknown consent value {value!r}",
            hint="use one of: " + ", ".join(CONSENT_VALUES) + " (see docs/rights.md)",
        )
    return v
