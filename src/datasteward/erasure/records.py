"""What ``inspect`` and ``status`` say about taken-down records (issue 19).

A record erased by a takedown is gone from the run's files, so ``inspect`` cannot show its
provenance; it shows instead what the ledger keeps: the request (number, kind, when it was
received), the decision (the policy's action and where it came from), the patch release that
replaced the releases it was in, the releases withdrawn, and what the erasure rewrote. Never
the requested value and never the requester (those are the receipt's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasteward.ledger import Ledger


def _ledger_exists(project: Path) -> bool:
    return (Path(project) / ".datasteward" / "ledger.db").exists()


def takedowns_of_record(project: Path, record_id: str) -> list[dict[str, Any]]:
    """Every erasing takedown whose fingerprint names ``record_id``, oldest first."""
    project = Path(project)
    if not _ledger_exists(project):
        return []
    out = []
    with Ledger.open(project, read_only=True) as ledger:
        for t in ledger.list_takedowns():
            p = ledger.takedown_policy(t.takedown_id)
            if p is None or p.probe is None or record_id not in p.probe.get("ids", []):
                continue
            erased = ledger.takedown_erasures(t.takedown_id)
            stages = {s: (at, json.loads(d)) for s, (at, d) in t.stages.items()}
            out.append(
                {
                    "takedown_id": t.takedown_id,
                    "kind": p.category,
                    "matched_by": t.kind,
                    "received_at": t.received_at,
                    "status": t.status,
                    "decision": p.action,
                    "policy": p.policy_source,
                    "patch_releases": stages.get("executed", ("", {}))[1].get("patches", {}),
                    "withdrawn_releases": sorted(
                        e.place.split("/", 1)[1] for e in erased if e.action == "withdrawn"
                    ),
                    "files_rewritten": sorted(e.place for e in erased if e.action == "rewritten"),
                    "files_deleted": sorted(e.place for e in erased if e.action == "deleted"),
                    "rows_erased": sum(e.rows_erased for e in erased if e.action == "rewritten"),
                    "erasure_finished": not (
                        project / ".datasteward" / "takedowns" / "pending" / f"{t.takedown_id}.json"
                    ).exists(),
                    "erased_at": max((e.at for e in erased), default=None),
                }
            )
    return out


def takedown_summary(project: Path) -> dict[str, Any] | None:
    """Requests by status and policy, records erased, unfinished erasures; None if none."""
    project = Path(project)
    if not _ledger_exists(project):
        return None
    with Ledger.open(project, read_only=True) as ledger:
        requests = ledger.list_takedowns()
        if not requests:
            return None
        by_status: dict[str, int] = {}
        erase = patch = 0
        erased_ids: set[str] = set()
        withdrawn: set[str] = set()
        for t in requests:
            by_status[t.status] = by_status.get(t.status, 0) + 1
            p = ledger.takedown_policy(t.takedown_id)
            if p is not None and p.action == "erase":
                erase += 1
                erased_ids |= set((p.probe or {}).get("ids", []))
                withdrawn |= {
                    e.place.split("/", 1)[1]
                    for e in ledger.takedown_erasures(t.takedown_id)
                    if e.action == "withdrawn"
                }
            else:
                patch += 1
    pending = project / ".datasteward" / "takedowns" / "pending"
    unfinished = sorted(
        int(p.stem)
        for p in (pending.glob("*.json") if pending.is_dir() else [])
        if p.stem.isdigit()
        and any(
            t.takedown_id == int(p.stem) and t.status in ("executed", "notified") for t in requests
        )
    )
    return {
        "requests": len(requests),
        "by_status": by_status,
        "erase": erase,
        "patch_only": patch,
        "records_erased": len(erased_ids),
        "withdrawn_releases": sorted(withdrawn),
        "unfinished_erasures": unfinished,
    }
