"""Takedown requests: received, matched, executed (patch releases + suppression), notified.

``apply`` finds every record the pending requests name in every release and in the latest
run, writes for each release line (``MAJOR.MINOR``) whose newest release holds any of them a
patch release with exactly those records removed (every other row unchanged and in the same
order), marks the affected releases superseded (their ``status.json`` names the patch and
the withdrawn ids, so ``load`` never returns them), adds the requests to the suppression list
so later runs drop the records at ingest, and records each stage in the ledger.

Every ``status.json`` is read before anything is written (a bad one stops ``apply`` with its
name). If ``apply`` stops part way anyway (a crash, a full disk), running it again finishes
the job: the pending requests are found again, the patch already written is recognised by
its manifest (its ``takedowns`` name the requests) and reused, and the statuses, registry,
suppression list and ledger stages are written without duplicates.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import ReleaseError
from datasteward.ledger import Ledger
from datasteward.ledger.releases import TakedownInfo
from datasteward.release.build.match import Matches, Request, match_releases, match_run, normalized
from datasteward.release.build.shards import ShardSet, iter_release_batches, write_shards
from datasteward.release.documents.changelog import takedown_entry
from datasteward.release.format.manifest import Manifest, read_manifest, schema_from_json
from datasteward.release.format.project import existing_versions, latest_per_line, releases_dir
from datasteward.release.format.status import mark_superseded, read_status, write_registry
from datasteward.release.format.version import Version

log = logging.getLogger(__name__)
PENDING = ("received", "matched")


def add_request(project: Path, *, kind: str, value: str, requester: str, reason: str) -> int:
    """Record a takedown request (stage ``received``); returns its id."""
    normalized(kind, value)  # refuse a value that can never match, before recording it
    with Ledger.open(project) as ledger:
        return ledger.add_takedown(kind=kind, value=value, requester=requester, reason=reason)


def list_requests(project: Path, *, status: str | None = None) -> list[TakedownInfo]:
    with Ledger.open(project) as ledger:
        return ledger.list_takedowns(status=status)


@dataclass
class ApplyResult:
    requests: list[TakedownInfo]
    matches: Matches
    patches: dict[str, str] = field(default_factory=dict)  # parent version -> patch version
    suppressed: int = 0
    dry_run: bool = False


def find(project: Path, requests: list[Request]) -> Matches:
    """Matches in every release and in the newest finished run."""
    from datasteward.runs.find import find_run

    dirs = {str(v): releases_dir(project) / str(v) for v in existing_versions(project)}
    found = match_releases(dirs, requests)
    try:
        run_dir = find_run(project)
    except Exception:  # noqa: BLE001 - no finished run: releases only
        return found
    found.items += match_run(run_dir, requests).items
    return found


def apply(project: Path, *, ids: list[int] | None = None, dry_run: bool = False) -> ApplyResult:
    project = Path(project)
    with Ledger.open(project) as ledger:
        pending = [t for t in ledger.list_takedowns() if t.status in PENDING]
        if ids is not None:
            pending = [t for t in pending if t.takedown_id in ids]
        if not pending:
            raise ReleaseError(
                "no pending takedown request", hint="add one with `datasteward takedown add`"
            )
        requests = [Request(t.takedown_id, t.kind, t.value) for t in pending]
        matches = find(project, requests)
        result = ApplyResult(pending, matches, dry_run=dry_run)
        if dry_run:
            return result
        _check_statuses(project)
        per = matches.by_request()
        for t in pending:
            ledger.takedown_stage(t.takedown_id, "matched", {"records": per.get(t.takedown_id, {})})
    patches = _patch_releases(project, pending, matches)
    result.patches = patches
    result.suppressed = _suppress(project, pending, matches)
    write_registry(project)
    with Ledger.open(project) as ledger:
        for t in pending:
            mine = {m.where for m in matches.items if m.takedown_id == t.takedown_id}
            ledger.takedown_stage(
                t.takedown_id,
                "executed",
                {
                    "patches": {
                        p: v for p, v in patches.items() if p in mine or _line_hit(p, mine)
                    },
                    "suppressed": True,
                },
            )
        for t in pending:
            receipt = _receipt(project, t, matches, patches)
            ledger.takedown_stage(
                t.takedown_id,
                "notified",
                {
                    "receipt": str(receipt.relative_to(project)),
                    "release_status": "status.json, registry.json",
                },
            )
    return result


def _check_statuses(project: Path) -> None:
    """Refuse to start when a release's status.json is unreadable (before anything is written).

    ``apply`` rewrites the status of every release it supersedes and the registry of all of
    them; meeting a bad file after the patch is written would leave the takedown half done.
    """
    for v in existing_versions(project):
        read_status(releases_dir(project) / str(v))  # ReleaseError naming the file


def _line_hit(parent: str, places: set[str]) -> bool:
    line = Version.parse(parent).line
    return any(not p.startswith("run:") and Version.parse(p).line == line for p in places)


def _patch_releases(project: Path, pending: list[TakedownInfo], matches: Matches) -> dict[str, str]:
    from datasteward.release.build.make import publish

    patches: dict[str, str] = {}
    hit = {p for p in matches.places() if not p.startswith("run:")}
    summary = [
        {
            "takedown_id": t.takedown_id,
            "kind": t.kind,
            "reason": t.reason,
            "received_at": t.received_at,
        }
        for t in pending
    ]
    for line, newest in sorted(latest_per_line(project).items()):
        line_hits = {v for v in hit if Version.parse(v).line == line}
        if not line_hits:
            continue
        removed = set().union(*(matches.ids(v) for v in line_hits))
        parent_dir = releases_dir(project) / str(newest)
        parent = read_manifest(parent_dir)
        patch = newest.next_patch()
        in_parent = matches.ids(str(newest))
        if in_parent:
            _publish_patch(project, parent_dir, parent, patch, in_parent, summary, publish)
            patches[str(newest)] = str(patch)
            target = str(patch)
        else:
            target = str(newest)  # the newest already lacks them (an earlier takedown)
            if parent.parent and _made_for(parent, pending):
                # an earlier `apply` of these requests wrote this patch and stopped before
                # finishing: resume, naming it as the patch of its parent
                patches[parent.parent] = str(newest)
        for v in sorted(line_hits):
            mark_superseded(
                releases_dir(project) / v,
                patch=target,
                takedown_ids=[t.takedown_id for t in pending],
                withdrawn_ids=sorted(removed & matches.ids(v)),
            )
    return patches


def _made_for(manifest: Manifest, pending: list[TakedownInfo]) -> bool:
    """Whether ``manifest`` is a takedown patch made for one of the ``pending`` requests."""
    ids = {t.takedown_id for t in pending}
    return any(
        isinstance(t, dict) and t.get("takedown_id") in ids for t in manifest.takedowns or []
    )


def _publish_patch(
    project: Path,
    parent_dir: Path,
    parent: Manifest,
    patch: Version,
    remove: set[str],
    summary: list[dict[str, Any]],
    publish: Any,
) -> None:
    from datasteward.release.build.make import read_run_recipe, read_run_stats
    from datasteward.runs.layout import RunLayout

    schema = schema_from_json(parent.schema)
    run_dir = RunLayout.of(project, parent.run_id).root if parent.run_id else None
    drop = pa.array(sorted(remove), pa.string())

    def batches() -> Iterator[pa.RecordBatch]:
        for b in iter_release_batches(parent_dir, [f.path for f in parent.data_files()]):
            keep = pc.invert(pc.is_in(b.column("id"), value_set=drop))
            yield b.filter(keep)

    def fill(tmp: Path) -> tuple[ShardSet, str]:
        shards = write_shards(tmp, batches(), schema, max_shard_bytes=_shard_bound(parent))
        entry = takedown_entry(
            version=str(patch),
            date=_now(),
            parent=parent.version,
            removed=parent.records - shards.rows,
            requests=[{k: s[k] for k in ("takedown_id", "kind", "reason")} for s in summary],
        )
        return shards, entry

    publish(
        project,
        patch,
        fill=fill,
        schema=schema,
        parent=parent.version,
        run_id=parent.run_id,
        recipe_hash=parent.recipe_hash,
        stats=read_run_stats(run_dir) if run_dir and run_dir.exists() else None,
        recipe=read_run_recipe(run_dir) if run_dir and run_dir.exists() else None,
        dataset_name=parent.dataset,
        draft=parent.draft,
        kind="takedown",
        takedowns=summary,
        check=None,
        max_shard_bytes=_shard_bound(parent),
        links=parent.links if parent.links_only else None,
    )


def _shard_bound(parent: Manifest) -> int:
    from datasteward.release.build.shards import DEFAULT_MAX_SHARD_BYTES

    return parent.max_shard_bytes or DEFAULT_MAX_SHARD_BYTES


def _now() -> str:
    from datasteward.ledger.chain import utc_now

    return utc_now()


def _suppress(project: Path, pending: list[TakedownInfo], matches: Matches) -> int:
    """Add every request (text requests: the matched ids) to the project's suppression list."""
    from datasteward.rights.suppression import SuppressionList

    existing = {(e.kind, e.value) for e in SuppressionList.load(project)}
    added = 0
    for t in pending:
        reason = f"takedown #{t.takedown_id}: {t.reason}"
        if t.kind == "text":
            items = [
                ("id", i)
                for i in sorted({m.id for m in matches.items if m.takedown_id == t.takedown_id})
            ]
        else:
            items = [(t.kind, normalized(t.kind, t.value))]
        for kind, value in items:
            if (kind, value) in existing:
                continue
            SuppressionList.add(project, kind=kind, value=value, reason=reason, by=t.requester)
            existing.add((kind, value))
            added += 1
    return added


def _receipt(project: Path, t: TakedownInfo, matches: Matches, patches: dict[str, str]) -> Path:
    """The notice for the requester: what was found where, and which releases replace which."""
    path = project / ".datasteward" / "takedowns" / f"{t.takedown_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    found: dict[str, int] = {}
    for m in matches.items:
        if m.takedown_id == t.takedown_id:
            found[m.where] = found.get(m.where, 0) + 1
    path.write_text(
        json.dumps(
            {
                "takedown_id": t.takedown_id,
                "kind": t.kind,
                "requester": t.requester,
                "reason": t.reason,
                "received_at": t.received_at,
                "records_found": found,
                "patch_releases": patches,
                "suppressed_in_future_runs": True,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n",
        "utf-8",
    )
    return path
