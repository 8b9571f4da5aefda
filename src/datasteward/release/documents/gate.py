"""What a non-draft release must satisfy before it goes out (the datasheet gate).

Besides the datasheet's required answers and explained recipe changes
(:func:`~datasteward.release.documents.datasheet.check_ready`), the gate refuses the
``datasteward init`` template's placeholders ("Your Name", "you@example.org", the description
stub) left in ``[dataset]``, ``[[stewards]]`` or ``datasheet.toml``: a release would publish
them as its creator, publisher and takedown contact. The placeholders are read from the
template files themselves (:func:`template_placeholders`), so the two cannot drift apart.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, fields
from functools import cache
from importlib import resources
from typing import Any

from datasteward.errors import ReleaseError
from datasteward.release.documents.context import ReleaseContext

#: The recipe templates of ``datasteward init`` (``datasteward/templates/<name>.toml``).
RECIPE_TEMPLATES = ("web-text",)
DATASHEET_TEMPLATE = "datasheet.toml"
RECIPE_FILE = "datasteward.toml"

#: A placeholder: (table, key, the template's value), ``table`` being ``dataset``,
#: ``stewards`` or a datasheet section.
Placeholder = tuple[str, str, str]


def _defaults(model: type[Any]) -> dict[str, Any]:
    return {f.name: f.default for f in fields(model) if f.default is not MISSING}


@cache
def template_placeholders() -> tuple[Placeholder, ...]:
    """Every value of the templates' ``[dataset]`` and ``[[stewards]]`` tables and every
    non-empty answer of the datasheet template, except values ``init`` fills in (``{name}``)
    and values equal to the recipe model's default for their key (a steward's ``role =
    "maintainer"`` is a real choice, not a stand-in)."""
    from datasteward.recipe.sections import DatasetInfo, Steward

    files = resources.files("datasteward.templates")
    out: list[Placeholder] = []
    for name in RECIPE_TEMPLATES:
        data = tomllib.loads(files.joinpath(f"{name}.toml").read_text("utf-8"))
        tables: list[tuple[str, Any, dict[str, Any]]] = [
            ("dataset", data.get("dataset") or {}, _defaults(DatasetInfo)),
            *(("stewards", s, _defaults(Steward)) for s in data.get("stewards") or []),
        ]
        for table, values, defaults in tables:
            for key, value in values.items():
                if (
                    isinstance(value, str)
                    and value.strip()
                    and "{" not in value
                    and defaults.get(key) != value
                ):
                    out.append((table, key, value.strip()))
    sheet = tomllib.loads(files.joinpath(DATASHEET_TEMPLATE).read_text("utf-8"))
    for section, answers in sheet.items():
        if isinstance(answers, dict):
            out += [
                (section, k, v.strip())
                for k, v in answers.items()
                if isinstance(v, str) and v.strip()
            ]
    return tuple(dict.fromkeys(out))


def _has(value: object, placeholder: str) -> bool:
    return isinstance(value, str) and placeholder.casefold() in value.casefold()


def placeholders_left(ctx: ReleaseContext) -> list[str]:
    """``file [table] key: "value"`` of every template placeholder this release would
    publish: in the released run's ``[dataset]`` and ``[[stewards]]`` (the recipe the run was
    made with, as the documents use it) or in the project's ``datasheet.toml`` (a datasheet
    answer is checked against every placeholder: "Your Name" as the creators is one too)."""
    from datasteward.release.documents.datasheet import stewards_answers

    found: list[str] = []
    places = template_placeholders()
    dataset = {"name": ctx.dataset, "description": ctx.description, "homepage": ctx.homepage}
    for table, key, value in places:
        if table == "dataset" and _has(dataset.get(key), value):
            found.append(f'{RECIPE_FILE} [dataset] {key}: "{value}"')
    for i, steward in enumerate(ctx.stewards):
        values = {f.name: getattr(steward, f.name) for f in fields(steward)}
        for table, key, value in places:
            if table == "stewards" and _has(values.get(key), value):
                which = f" (steward {i + 1})" if len(ctx.stewards) > 1 else ""
                found.append(f'{RECIPE_FILE} [[stewards]] {key}{which}: "{value}"')
    answers, _ = stewards_answers(ctx.project)
    for section, given in sorted(answers.items()):
        for key, answer in sorted(given.items()):
            hits = [v for _, _, v in places if _has(answer, v)]
            if hits:
                found.append(f'{DATASHEET_TEMPLATE} [{section}] {key}: "{hits[0]}"')
    return found


def check_placeholders(ctx: ReleaseContext) -> None:
    """Raise ReleaseError naming every template placeholder left in the project."""
    left = placeholders_left(ctx)
    if left:
        raise ReleaseError(
            f"release {ctx.version}: {len(left)} placeholder(s) of the `datasteward init` "
            "template would be published: " + "; ".join(left),
            hint=(
                f"write the real values in {ctx.project / RECIPE_FILE} and "
                f"{ctx.project / DATASHEET_TEMPLATE}, then run again ([dataset] and "
                "[[stewards]] are taken from the recipe the released run was made with); or "
                "release with --draft"
            ),
        )


def release_gate(ctx: ReleaseContext) -> None:
    """Raise ReleaseError if template placeholders are left, required datasheet answers are
    missing or recipe changes are unexplained."""
    from datasteward.release.documents.datasheet import check_ready

    check_placeholders(ctx)
    check_ready(ctx, ctx.datasheet)
