"""Live counters of a crawl: URLs per second, hosts active, bytes, errors by kind.

The crawler updates one :class:`CrawlProgress`; the CLI renders it (rich) every half second
and the summary is its final state.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CrawlProgress:
    started: float = field(default_factory=time.monotonic)
    #: URLs finished in this process (any outcome) and pages written to the WARC.
    done: int = 0
    written: int = 0
    #: Bytes of bodies received (decoded) and of WARC written.
    bytes: int = 0
    warc_bytes: int = 0
    #: Pending in the frontier when last looked.
    pending: int = 0
    hosts_active: int = 0
    #: Finished URLs by error kind (``timeout``, ``http_4xx``...).
    errors: Counter[str] = field(default_factory=Counter)
    #: Finished URLs by decision (fetched, reserved_recorded, robots_refused, not_html...).
    decisions: Counter[str] = field(default_factory=Counter)
    #: Pages cut from a half-written WARC part on resume, and URLs already done before.
    resumed_from: int = 0

    @property
    def elapsed(self) -> float:
        return max(1e-9, time.monotonic() - self.started)

    @property
    def rate(self) -> float:
        """URLs finished per second in this process."""
        return self.done / self.elapsed

    def line(self) -> str:
        errs = ", ".join(f"{k} {n}" for k, n in self.errors.most_common(4)) or "none"
        return (
            f"{self.done} URLs ({self.rate:.1f}/s), {self.written} pages written, "
            f"{self.pending} pending, {self.hosts_active} hosts active, "
            f"{self.bytes / 1e6:.1f} MB, errors: {errs}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "written": self.written,
            "bytes": self.bytes,
            "warc_bytes": self.warc_bytes,
            "pending": self.pending,
            "seconds": round(self.elapsed, 3),
            "urls_per_second": round(self.rate, 3),
            "errors": dict(self.errors),
            "decisions": dict(self.decisions),
            "resumed_from": self.resumed_from,
        }
