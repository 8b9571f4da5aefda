"""Steps: annotators, filters, editors and global steps over Arrow batches."""

from datasteward.steps.base import (
    Annotator,
    EditDecision,
    Editor,
    Filter,
    FilterDecision,
    GlobalStep,
    Step,
    StepContext,
    StepOptions,
    StepResult,
)
from datasteward.steps.registry import BUILTIN_STEPS, build_step, find_step, register

__all__ = [
    "BUILTIN_STEPS",
    "Annotator",
    "EditDecision",
    "Editor",
    "Filter",
    "FilterDecision",
    "GlobalStep",
    "Step",
    "StepContext",
    "StepOptions",
    "StepResult",
    "build_step",
    "find_step",
    "register",
]
