"""Find steps by name: built-in names first, then ``package.module:Class`` for user code."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from datasteward.errors import StepError
from datasteward.steps.base import Step

#: Built-in steps, by the name users write in the recipe. Imported lazily, so that a step
#: with heavy dependencies costs nothing until a recipe uses it.
BUILTIN_STEPS: dict[str, str] = {
    "dedup.exact": "datasteward.steps.dedup.exact:ExactDedup",
    "dedup.minhash": "datasteward.steps.dedup.minhash:MinhashDedup",
    "filter.length": "datasteward.steps.filters.length:LengthFilter",
    "filter.regex": "datasteward.steps.filters.regex:RegexFilter",
    "langid": "datasteward.steps.langid:LangId",
    "url.blocklist": "datasteward.steps.url_blocklist:UrlBlocklist",
    "pii": "datasteward.steps.pii:Pii",
    "contamination": "datasteward.steps.contamination:Contamination",
    "c4": "datasteward.steps.text.c4:C4Filter",
    "c4.badwords": "datasteward.steps.text.badwords:BadWordsFilter",
    "gopher.quality": "datasteward.steps.text.gopher:GopherQualityFilter",
    "gopher.repetition": "datasteward.steps.text.gopher:GopherRepetitionFilter",
    "fineweb.quality": "datasteward.steps.text.fineweb:FineWebQualityFilter",
    "rights.license_normalize": "datasteward.rights.steps.license_normalize:LicenseNormalize",
    "rights.license_detect": "datasteward.rights.steps.license_detect:LicenseDetect",
    "rights.optout": "datasteward.rights.steps.optout:OptOutFilter",
    "rights.policy": "datasteward.rights.steps.policy:PolicyFilter",
}


def register(name: str, target: str) -> None:
    """Register a step under a name (``target`` is ``module:Class``)."""
    BUILTIN_STEPS[name] = target


def _import(target: str, *, name: str) -> type[Step]:
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise StepError(
            f"unknown step `{name}`",
            hint="use a built-in name ("
            + ", ".join(sorted(BUILTIN_STEPS))
            + ") or `package.module:Class` for your own step",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StepError(f"step `{name}`: cannot import module `{module_name}`: {exc}") from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Step)):
        raise StepError(
            f"step `{name}`: `{target}` is not a datasteward Step class",
            hint="subclass datasteward.steps.Filter, Annotator, Editor or GlobalStep",
        )
    return cls


def find_step(name: str) -> type[Step]:
    """The step class for a recipe name."""
    target = BUILTIN_STEPS.get(name)
    if target is not None:
        return _import(target, name=name)
    return _import(name, name=name)


def build_step(name: str, config: Mapping[str, Any], *, where: str = "") -> Step:
    """Build a configured step from its recipe entry (without ``use``)."""
    return find_step(name).from_config(config, where=where)
