"""A separate process that writes to a ledger, for the concurrency tests.

    python ledger_worker.py PROJECT URL|- ROLE COUNT GO_FILE

ROLE ``run`` starts and finishes COUNT runs the way the executor does; ROLE ``decide``
records COUNT decisions. The worker waits until GO_FILE exists so that all workers start
together, and opens the ledger only then (so a fresh ledger is also migrated concurrently).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> None:
    project, url, role, count, go = sys.argv[1:6]
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the go file never appeared")
        time.sleep(0.005)
    from datasteward.ledger import Ledger

    me = f"{role}-{os.getpid()}"
    with Ledger.open(Path(project), None if url == "-" else url) as ledger:
        for i in range(int(count)):
            if role == "run":
                run_id = f"{me}-{i}"
                ledger.start_run(
                    run_id,
                    recipe_hash="f" * 64,
                    recipe_text="[dataset]\nname = 'c'\n",
                    recipe_canonical="{}",
                    datasteward_version="0.1.0",
                    executor="local",
                    workers=1,
                    options={},
                )
                ledger.finish_run(
                    run_id,
                    status="succeeded",
                    stats={
                        "records_in": i,
                        "kept": i,
                        "removed": 0,
                        "steps": [
                            {
                                "step_id": "s01",
                                "use": "filter.length",
                                "records_in": i,
                                "records_out": i,
                                "removed": 0,
                                "edited": 0,
                                "reasons": {},
                            }
                        ],
                    },
                )
            else:
                ledger.record_decision(
                    title=f"{me} decision {i}", rationale="concurrency test", tradeoff=None, by=me
                )


if __name__ == "__main__":
    main()
