"""datasteward: a workbench for the people who make machine-learning datasets.

The public API (see docs/python-api.md): :class:`Project` for dataset creators (open a
project, run its recipe, audit, release: what the CLI does), :func:`load`,
:func:`fetch_links` and :func:`verify_release` for dataset users, the recipe model, and the
one exception tree under :class:`DatastewardError`. Every name but the error and the version
is imported on first use, so ``import datasteward`` stays light (no pyarrow, duckdb or
SQLAlchemy until a function needs them).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from datasteward._version import __version__
from datasteward.errors import DatastewardError

if TYPE_CHECKING:
    from datasteward.project import Project, ProjectStatus
    from datasteward.recipe.model import Recipe, load_recipe
    from datasteward.release.consumer.fetch_links import fetch_links
    from datasteward.release.consumer.load import load
    from datasteward.release.consumer.verify_release import verify_release

__all__ = [
    "DatastewardError",
    "Project",
    "ProjectStatus",
    "Recipe",
    "__version__",
    "fetch_links",
    "load",
    "load_recipe",
    "verify_release",
]

#: Where each lazily imported public name lives.
_LAZY = {
    "Project": "datasteward.project",
    "ProjectStatus": "datasteward.project",
    "Recipe": "datasteward.recipe.model",
    "load_recipe": "datasteward.recipe.model",
    "load": "datasteward.release.consumer.load",
    "fetch_links": "datasteward.release.consumer.fetch_links",
    "verify_release": "datasteward.release.consumer.verify_release",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'datasteward' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    # the public names and the subpackages already imported, not this module's own imports
    subpackages = {
        name
        for name, value in globals().items()
        if isinstance(value, ModuleType) and value.__name__ == f"{__name__}.{name}"
    }
    return sorted(set(__all__) | subpackages)
