"""datasteward: a workbench for the people who make machine-learning datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datasteward._version import __version__
from datasteward.errors import DatastewardError

if TYPE_CHECKING:
    from datasteward.release.consumer.fetch_links import fetch_links
    from datasteward.release.consumer.load import load

__all__ = ["DatastewardError", "__version__", "fetch_links", "load"]


def __getattr__(name: str) -> Any:
    # `datasteward.load` is imported on first use, so `import datasteward` stays light
    if name == "load":
        from datasteward.release.consumer.load import load

        return load
    if name == "fetch_links":
        from datasteward.release.consumer.fetch_links import fetch_links

        return fetch_links
    raise AttributeError(f"module 'datasteward' has no attribute {name!r}")
