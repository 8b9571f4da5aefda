"""datasteward: a workbench for the people who make machine-learning datasets."""

from datasteward._version import __version__
from datasteward.errors import DatastewardError

__all__ = ["DatastewardError", "__version__"]
