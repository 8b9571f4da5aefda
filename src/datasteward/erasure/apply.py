"""``takedown apply`` with erasure: the patch releases, then, for requests whose kind's policy
is ``erase``, the withdrawal of every superseded release that held the record and its erasure
from every file of the project; each file recorded in the ledger.

Order, so that a crash at any point can be finished by running again (``--resume``):

1. before anything is written, the records are found and their clear values (text, URL, id,
   content hash) written to ``.datasteward/takedowns/pending/<id>.json``, their fingerprint
   (hashes only) to the ledger;
2. the patch releases, the superseded statuses, the suppression list (by id and content hash)
   and the ``matched``/``executed`` stages (:func:`datasteward.release.build.takedown.apply`);
3. each superseded release that held a record becomes a tombstone
   (:func:`datasteward.release.build.withdraw.withdraw_release`);
4. every other file of the project is rewritten without the records (Parquet rows dropped,
   text redacted); each rewrite is noted in a journal before it replaces the file, and
   recorded in the ledger after;
5. the pending file and the journal are deleted (recorded too), then the receipt is written
   (stage ``notified``).

A request whose pending file still exists after stage ``executed`` has an unfinished erasure:
``apply`` finishes it first; ``apply --resume`` does only that.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasteward.erasure.fingerprint import Fingerprint, RecordNeedles
from datasteward.erasure.needles import collect_needles
from datasteward.erasure.places import Place, walk
from datasteward.erasure.rewrite import (
    Rewrite,
    erase_parquet,
    erase_text_file,
    replace_atomically,
)
from datasteward.errors import ReleaseError
from datasteward.ledger import Ledger
from datasteward.ledger.releases import TakedownInfo
from datasteward.release.build import takedown as td
from datasteward.release.build.withdraw import Withdrawal, withdraw_release
from datasteward.release.format.manifest import read_manifest, sha256_file
from datasteward.release.format.project import existing_versions, releases_dir
from datasteward.release.format.status import read_status, write_registry

log = logging.getLogger(__name__)

#: progress(stage, done, total): stage is "find", "withdraw", "erase" or "scan".
Progress = Callable[[str, int, int], None]
#: Test hook: "N:PATH" — after N recorded file erasures, create PATH and wait (to be killed).
PAUSE_ENV = "DATASTEWARD_TEST_PAUSE_ERASURE"


@dataclass
class ErasureSummary:
    takedown_id: int
    withdrawn: dict[str, str | None] = field(default_factory=dict)  # version -> replacement
    files_rewritten: int = 0
    files_deleted: int = 0
    rows_erased: int = 0
    sources_left: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "withdrawn_releases": self.withdrawn,
            "files_rewritten": self.files_rewritten,
            "files_deleted": self.files_deleted,
            "rows_erased": self.rows_erased,
            "source_inputs_left": self.sources_left,
        }


@dataclass
class TakedownOutcome:
    applied: td.ApplyResult | None
    policies: dict[int, str] = field(default_factory=dict)  # takedown id -> erase | patch
    erased: dict[int, ErasureSummary] = field(default_factory=dict)
    resumed: list[int] = field(default_factory=list)


def apply_takedowns(
    project: Path,
    *,
    ids: list[int] | None = None,
    dry_run: bool = False,
    resume: bool = False,
    include_sources: bool = False,
    progress: Progress | None = None,
) -> TakedownOutcome:
    """Apply pending takedown requests, erasing where their policy says so.

    Callable from Python (the web site runs it as a background job): ``progress`` is called
    with (stage, done, total) as files are withdrawn, erased and scanned.
    """
    project = Path(project)
    with Ledger.open(project) as ledger:
        everything = ledger.list_takedowns()
        policies = {t.takedown_id: ledger.takedown_policy(t.takedown_id) for t in everything}
    unfinished = [
        t
        for t in everything
        if t.status in ("executed", "notified")
        and td.pending_file(project, t.takedown_id).exists()
        and (ids is None or t.takedown_id in ids)
    ]
    pending = [
        t for t in everything if t.status in td.PENDING and (ids is None or t.takedown_id in ids)
    ]
    outcome = TakedownOutcome(None, {tid: p.action for tid, p in policies.items() if p is not None})
    if resume and not unfinished:
        raise ReleaseError(
            "no unfinished erasure to resume",
            hint="`datasteward takedown list` shows each request's stage; "
            "apply pending requests with `datasteward takedown apply`",
        )
    if not dry_run:
        for t in unfinished:  # an erasure stopped part way: finish it first
            outcome.erased[t.takedown_id] = erase_request(
                project, t.takedown_id, include_sources=include_sources, progress=progress
            )
            _notify_from_ledger(project, t, outcome.erased[t.takedown_id])
            outcome.resumed.append(t.takedown_id)
    if resume:
        return outcome
    if not pending and unfinished:
        return outcome
    erasing = [
        t for t in pending if (p := policies.get(t.takedown_id)) is not None and p.action == "erase"
    ]
    if dry_run or not erasing:
        outcome.applied = td.apply(
            project, ids=[t.takedown_id for t in pending] or ids, dry_run=dry_run
        )
        return outcome
    hashes = prepare(project, erasing, progress=progress)

    def after_patches(result: td.ApplyResult) -> dict[int, dict[str, Any]]:
        extra: dict[int, dict[str, Any]] = {}
        for t in erasing:
            s = erase_request(
                project, t.takedown_id, include_sources=include_sources, progress=progress
            )
            outcome.erased[t.takedown_id] = s
            extra[t.takedown_id] = {"erasure": s.as_dict()}
        return extra

    outcome.applied = td.apply(
        project,
        ids=[t.takedown_id for t in pending],
        erase_hashes=hashes,
        on_executed=after_patches,
    )
    return outcome


def prepare(
    project: Path, erasing: list[TakedownInfo], *, progress: Progress | None = None
) -> dict[int, list[str]]:
    """Find each erasing request's records and keep what erasing them needs (step 1);
    returns their content hashes (for the suppression list)."""
    requests = td.requests_of(project, erasing)
    matches = td.find(project, requests)
    hashes: dict[int, list[str]] = {}
    for n, t in enumerate(erasing, 1):
        ids = {m.id for m in matches.items if m.takedown_id == t.takedown_id}
        urls = {m.url for m in matches.items if m.takedown_id == t.takedown_id and m.url}
        needles = collect_needles(project, ids, urls)
        held = td.read_pending(project, t.takedown_id) or {}
        held["records"] = [r.as_dict() for r in needles]
        td.write_pending(project, t.takedown_id, held)
        fp = Fingerprint.of(needles)
        with Ledger.open(project) as ledger:
            p = ledger.takedown_policy(t.takedown_id)
            if p is not None:
                ledger.record_takedown_policy(
                    t.takedown_id,
                    category=p.category,
                    action=p.action,
                    policy_source=p.policy_source,
                    value_sha256=p.value_sha256,
                    probe=fp.as_dict(),
                )
        hashes[t.takedown_id] = sorted({h for r in needles for h in r.content_sha256})
        if progress:
            progress("find", n, len(erasing))
    return hashes


def _journal(project: Path, tid: int) -> Path:
    return td.pending_file(project, tid).with_suffix(".journal.jsonl")


def erase_request(
    project: Path,
    tid: int,
    *,
    include_sources: bool = False,
    progress: Progress | None = None,
) -> ErasureSummary:
    """Steps 3-5 for one request (idempotent: run again after a crash to finish)."""
    held = td.read_pending(project, tid)
    summary = ErasureSummary(tid)
    if held is None:
        return summary
    records = [RecordNeedles.from_dict(d) for d in held.get("records", [])]
    ids = {r.id for r in records}
    pause = _pause_hook()
    with Ledger.open(project) as ledger:
        policy = ledger.takedown_policy(tid)
        done = {(e.place, e.sha256_after) for e in ledger.takedown_erasures(tid)}

        def record(
            place: str, action: str, rows: int, before: str | None, after: str | None
        ) -> None:
            if (place, after) in done:
                return
            ledger.record_takedown_erasure(
                tid,
                place=place,
                action=action,
                rows_erased=rows,
                sha256_before=before,
                sha256_after=after,
            )
            done.add((place, after))
            if action == "deleted":
                summary.files_deleted += 1
            elif action == "rewritten":
                summary.files_rewritten += 1
                summary.rows_erased += rows  # rows (or text passages) erased from files kept
            pause(len(done))

        _reconcile_journal(project, tid, record)
        decision = f"{policy.action} ({policy.policy_source})" if policy else "erase"
        category = policy.category if policy else "other"
        versions = [str(v) for v in existing_versions(project)]
        for n, v in enumerate(versions, 1):
            d = releases_dir(project) / v
            status = read_status(d)
            if not ids & set(status.get("withdrawn_ids", [])):
                continue
            replacement = _replacement(status, tid)
            w = Withdrawal(
                version=v,
                replacement=replacement,
                takedown_ids=(tid,),
                categories=(category,),
                decision=decision,
                at=_today(),
            )
            withdraw_release(d, w, record)
            if (f"releases/{v}", None) not in done:
                record(f"releases/{v}", "withdrawn", read_manifest(d).records, None, None)
            summary.withdrawn[v] = replacement
            if progress:
                progress("withdraw", n, len(versions))
        write_registry(project)
        places = [p for p in walk(project) if _erasable(p, project)]
        journal = _journal(project, tid)
        for n, place in enumerate(places, 1):
            if place.source_input and not include_sources:
                if place.kind in ("parquet", "text"):
                    summary.sources_left.append(place.rel)
                continue
            rw = _rewrite(place, records, tid)
            if rw is not None:
                with journal.open("a", encoding="utf-8") as j:
                    j.write(
                        json.dumps(
                            {
                                "place": place.rel,
                                "rows": rw.rows_erased,
                                "before": rw.sha256_before,
                                "after": rw.sha256_after,
                            }
                        )
                        + "\n"
                    )
                    j.flush()
                    os.fsync(j.fileno())
                replace_atomically(rw.tmp, rw.path)
                record(place.rel, "rewritten", rw.rows_erased, rw.sha256_before, rw.sha256_after)
            if progress:
                progress("erase", n, len(places))
        # what the erasure kept in clear goes last
        pending = td.pending_file(project, tid)
        before = sha256_file(pending)
        if journal.exists():
            journal.unlink()
        pending.unlink()
        record(pending.relative_to(project).as_posix(), "deleted", 0, before, None)
    return summary


def _replacement(status: dict[str, Any], tid: int) -> str | None:
    for entry in reversed(status.get("superseded_by", [])):
        if tid in entry.get("takedowns", []):
            return str(entry["version"])
    sup = status.get("superseded_by", [])
    return str(sup[-1]["version"]) if sup else None


def _erasable(place: Place, project: Path) -> bool:
    """Files the erasure rewrites: not the ledger, the suppression list, the receipts, the
    pending values, nor a release that was not withdrawn (releases are immutable; only a
    tombstone's documents are redacted), nor a tombstone's manifest and status."""
    if place.pending or place.kind in ("sqlite", "binary", "gzip"):
        return False
    if place.rel.startswith(".datasteward/"):
        return not (
            place.rel == ".datasteward/suppression.jsonl"
            or place.rel.startswith(".datasteward/takedowns/")
            or place.rel.startswith(".datasteward/ledger")
        )
    if place.release is not None:
        name = place.rel.split("/")[-1]
        if name in ("manifest.json", "status.json"):
            return False
        return read_status(releases_dir(project) / place.release).get("status") == "withdrawn"
    return not place.rel.startswith(".") or place.kind == "parquet"


def _rewrite(place: Place, records: list[RecordNeedles], tid: int) -> Rewrite | None:
    try:
        if place.kind == "parquet":
            return erase_parquet(place.path, records)
        return erase_text_file(
            place.path, records, marker=f"[erased: takedown #{tid}]", ids=not place.ids_allowed
        )
    except OSError as exc:
        raise ReleaseError(
            f"{place.path}: cannot be erased ({exc})",
            hint="fix the file's permissions or free disk space, then run "
            "`datasteward takedown apply --resume`",
        ) from None


def _reconcile_journal(
    project: Path, tid: int, record: Callable[[str, str, int, str | None, str | None], None]
) -> None:
    """Record the rewrites a crash left in place but not in the ledger."""
    journal = _journal(project, tid)
    if not journal.exists():
        return
    for line in journal.read_text("utf-8").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue  # the line being written when it stopped
        path = Path(project) / e["place"]
        if path.exists() and sha256_file(path) == e["after"]:
            record(e["place"], "rewritten", int(e["rows"]), e["before"], e["after"])


def _notify_from_ledger(project: Path, t: TakedownInfo, summary: ErasureSummary) -> None:
    """The receipt of a request whose erasure was resumed (matches and patches from the
    stages the ledger recorded)."""
    with Ledger.open(project) as ledger:
        info = next(x for x in ledger.list_takedowns() if x.takedown_id == t.takedown_id)
    stages = {s: json.loads(d) for s, (_at, d) in info.stages.items()}
    found = {t.takedown_id: stages.get("matched", {}).get("records", {})}
    patches = stages.get("executed", {}).get("patches", {})
    td.notify(project, [info], found, patches, {t.takedown_id: {"erasure": summary.as_dict()}})


def _today() -> str:
    from datasteward.ledger.chain import utc_now

    return utc_now()


def _pause_hook() -> Callable[[int], None]:
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return lambda n: None
    count, _, marker = spec.partition(":")

    def pause(n: int) -> None:
        if n >= int(count):
            Path(marker).write_text(str(n), "utf-8")
            while True:  # the test kills the process here
                time.sleep(1)

    return pause
