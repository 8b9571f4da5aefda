"""``contamination``: n-gram overlap of records with benchmark test sets (GPT-3's check)."""

from datasteward.steps.contamination.benchmarks import BenchmarkSpec, Item, read_items
from datasteward.steps.contamination.index import NgramIndex
from datasteward.steps.contamination.ngrams import normalise
from datasteward.steps.contamination.step import Contamination, ContaminationOptions

__all__ = [
    "BenchmarkSpec",
    "Contamination",
    "ContaminationOptions",
    "Item",
    "NgramIndex",
    "normalise",
    "read_items",
]
