"""A user-code step that fails like a full disk (found by dotted path, in worker processes)."""

from __future__ import annotations

import errno
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from datasteward.steps.base import Filter, FilterDecision, StepOptions


@dataclass(frozen=True, kw_only=True)
class FullDiskOptions(StepOptions):
    #: A batch with a text containing this meets a full disk.
    at_text: str = ""


class FullDiskFilter(Filter):
    """Keeps every record, until a batch with ``at_text`` in a text: there the disk is full."""

    name = "full_disk_step:FullDiskFilter"
    Options = FullDiskOptions
    options: FullDiskOptions

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        if any(self.options.at_text in (t or "") for t in batch.column("text").to_pylist()):
            raise OSError(errno.ENOSPC, "No space left on device")
        return FilterDecision(
            keep=np.ones(batch.num_rows, dtype=bool), reason=[None] * batch.num_rows
        )
