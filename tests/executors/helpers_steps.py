"""A user-code step for the executor tests (found by dotted path, as users' own steps are)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from datasteward.steps.base import Filter, FilterDecision, StepOptions


@dataclass(frozen=True, kw_only=True)
class SlowOptions(StepOptions):
    #: Seconds to sleep per batch, so that a test can kill a run in the middle.
    sleep: float = 0.0


class SlowPassFilter(Filter):
    """Keeps every record, slowly."""

    name = "helpers_steps:SlowPassFilter"
    Options = SlowOptions
    options: SlowOptions

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        time.sleep(self.options.sleep)
        return FilterDecision(
            keep=np.ones(batch.num_rows, dtype=bool), reason=[None] * batch.num_rows
        )
