"""User-code steps for the Ray executor's failure tests (found by dotted path)."""

from __future__ import annotations

import os
import threading

import numpy as np
import pyarrow as pa

from datasteward.steps.base import Filter, FilterDecision, StepOptions


class LockedPassFilter(Filter):
    """Keeps every record, but holds a lock: it cannot be pickled, so it cannot go to Ray."""

    name = "ray_steps:LockedPassFilter"
    Options = StepOptions

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self.lock = threading.Lock()

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        return FilterDecision(
            keep=np.ones(batch.num_rows, dtype=bool), reason=[None] * batch.num_rows
        )


class WorkerKillingFilter(Filter):
    """Ends the process that runs it, every time: a task whose worker always dies (as one that
    runs out of memory on every node would)."""

    name = "ray_steps:WorkerKillingFilter"
    Options = StepOptions

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        os._exit(1)
