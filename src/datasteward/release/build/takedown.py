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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import ReleaseError
from datasteward.ledger import Ledger
from datasteward.ledger.releases import TakedownInfo
from datasteward.release.build.match import Matches, Request, match_releases, match_run, normalized
from datasteward.release.build.patch_shards import patch_shards
from datasteward.release.build.shards import (
    INDEX_FILE,
    ShardSet,
    iter_release_batches,
    write_shards,
)
from datasteward.release.documents.changelog import takedown_entry
from datasteward.release.format.manifest import Manifest, read_manifest, schema_from_json
from datasteward.release.format.project import existing_versions, latest_per_line, releases_dir
from datasteward.release.format.status import mark_superseded, read_status, write_registry
from datasteward.release.format.version import Version

log = logging.getLogger(__name__)
PENDING = ("received", "matched")
PENDING_DIR = Path(".datasteward") / "takedowns" / "pending"


def add_request(
    project: Path,
    *,
    kind: str,
    value: str,
    requester: str,
    reason: str,
    category: str = "other",
) -> int:
    """Record a takedown request (stage ``received``) with its kind and policy; returns its id.

    ``kind`` is what the request matches (url, domain, sha256, id, text); ``category`` what
    kind of request it is (privacy, legal, copyright, harmful, other), whose action — erase or
    patch — the recipe's ``[takedown.policy]`` decides (defaults: privacy and legal erase). The
    ledger is append-only, so for an erasing request it keeps only the sha256 of the value;
    the value itself waits in ``.datasteward/takedowns/pending/<id>.json`` until the erasure
    has run, and is deleted with it.
    """

    key = normalized(kind, value)  # refuse a value that can never match, before recording it
    action, source = policy_for(project, category)
    stored = value if action == "patch" else "sha256:" + _sha(key)
    with Ledger.open(project) as ledger:
        tid = ledger.add_takedown(kind=kind, value=stored, requester=requester, reason=reason)
        if action == "erase":
            write_pending(project, tid, {"takedown_id": tid, "kind": kind, "value": value})
        ledger.record_takedown_policy(
            tid,
            category=category,
            action=action,
            policy_source=source,
            value_sha256=_sha(key),
        )
    return tid


def policy_for(project: Path, category: str) -> tuple[str, str]:
    """(action, where the action comes from) for a request kind, from the project's recipe."""
    from datasteward.recipe.takedown import TAKEDOWN_CATEGORIES, TakedownTable

    if category not in TAKEDOWN_CATEGORIES:
        raise ReleaseError(
            f"unknown takedown kind {category!r}",
            hint="use one of: " + ", ".join(TAKEDOWN_CATEGORIES),
        )
    table = TakedownTable()
    if (Path(project) / "datasteward.toml").exists():
        from datasteward.recipe import load_recipe
        from datasteward.recipe.takedown import takedown_table

        recipe = load_recipe(project)
        table = takedown_table(recipe.raw.get("takedown"), path=recipe.path)
    return table.action(category), table.source(category)


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pending_file(project: Path, takedown_id: int) -> Path:
    """Where an erasing request keeps its clear values until its erasure has run."""
    return Path(project) / PENDING_DIR / f"{takedown_id}.json"


def write_pending(project: Path, takedown_id: int, data: dict[str, Any]) -> None:
    from datasteward.release.format.project import write_json_atomic

    write_json_atomic(pending_file(project, takedown_id), data)


def read_pending(project: Path, takedown_id: int) -> dict[str, Any] | None:
    path = pending_file(project, takedown_id)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        raise ReleaseError(
            f"{path}: not JSON ({exc})",
            hint="it holds the value of an erasing takedown request until it is applied; "
            "add the request again if it is lost",
        ) from None
    if not isinstance(data, dict):
        raise ReleaseError(f"{path}: not a JSON object")
    return data


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


def requests_of(project: Path, pending: list[TakedownInfo]) -> list[Request]:
    """The requests to match: an erasing request's value comes from its pending file."""
    out = []
    for t in pending:
        value = t.value
        if value.startswith("sha256:"):
            held = read_pending(project, t.takedown_id)
            if held is None or not isinstance(held.get("value"), str):
                raise ReleaseError(
                    f"takedown request #{t.takedown_id}: the ledger keeps only the hash of its "
                    f"value and {pending_file(project, t.takedown_id)} is missing",
                    hint="the value of an erasing request is kept there until it is applied; "
                    "add the request again",
                )
            value = held["value"]
        out.append(Request(t.takedown_id, t.kind, value))
    return out


def apply(
    project: Path,
    *,
    ids: list[int] | None = None,
    dry_run: bool = False,
    erase_hashes: dict[int, list[str]] | None = None,
    on_executed: Callable[[ApplyResult], dict[int, dict[str, Any]]] | None = None,
) -> ApplyResult:
    """Apply the pending requests (all, or ``ids``): match, patch, suppress, record.

    ``erase_hashes`` names the requests whose records are suppressed by id and content hash
    (the hashes given) rather than by the requested value, which an erasure must not keep;
    ``on_executed`` runs after the patches and before the requesters' receipts, and returns
    what each receipt should add (e.g. what an erasure removed).
    """
    project = Path(project)
    with Ledger.open(project) as ledger:
        pending = [t for t in ledger.list_takedowns() if t.status in PENDING]
        if ids is not None:
            pending = [t for t in pending if t.takedown_id in ids]
        if not pending:
            raise ReleaseError(
                "no pending takedown request", hint="add one with `datasteward takedown add`"
            )
    requests = requests_of(project, pending)
    matches = find(project, requests)
    result = ApplyResult(pending, matches, dry_run=dry_run)
    if dry_run:
        return result
    with Ledger.open(project) as ledger:
        _check_statuses(project)
        per = matches.by_request()
        for t in pending:
            ledger.takedown_stage(t.takedown_id, "matched", {"records": per.get(t.takedown_id, {})})
    patches = _patch_releases(project, pending, matches)
    result.patches = patches
    result.suppressed = _suppress(project, pending, matches, erase_hashes or {})
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
    extra = on_executed(result) if on_executed is not None else {}
    notify(project, pending, matches.by_request(), patches, extra)
    return result


def notify(
    project: Path,
    pending: list[TakedownInfo],
    found: dict[int, dict[str, int]],
    patches: dict[str, str],
    extra: dict[int, dict[str, Any]],
) -> None:
    """Write each requester's receipt and record the ``notified`` stage."""
    with Ledger.open(project) as ledger:
        for t in pending:
            receipt = _receipt(
                project, t, found.get(t.takedown_id, {}), patches, extra.get(t.takedown_id, {})
            )
            ledger.takedown_stage(
                t.takedown_id,
                "notified",
                {
                    "receipt": str(receipt.relative_to(project)),
                    "release_status": "status.json, registry.json",
                },
            )


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
        if (parent_dir / INDEX_FILE).exists() and not parent.links_only:
            shards = patch_shards(parent_dir, parent, tmp, remove)  # untouched shards linked
        else:
            shards = write_shards(tmp, batches(), schema, max_shard_bytes=_shard_bound(parent))
        entry = takedown_entry(
            version=str(patch),
            date=_now(),
            parent=parent.version,
            removed=parent.records - shards.rows,
            requests=[{k: s[k] for k in ("takedown_id", "kind", "reason")} for s in summary],
        )
        return shards, entry + policy_lines(project, [int(s["takedown_id"]) for s in summary])

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


def policy_lines(project: Path, takedown_ids: list[int]) -> str:
    """The changelog's word on what each request's policy does to the earlier releases."""

    lines = []
    with Ledger.open(project) as ledger:
        for tid in takedown_ids:
            p = ledger.takedown_policy(tid)
            if p is None:
                continue
            if p.action == "erase":
                what = (
                    "erase: every earlier release that held the record is withdrawn (its data "
                    "files deleted, a tombstone left) and the record is erased from the "
                    "project's runs, reports and samples"
                )
            else:
                what = (
                    "patch only: the earlier releases that held the record stay published "
                    "unchanged (loaders that respect status.json leave the record out)"
                )
            lines.append(f"- Policy for request #{tid} ({p.category}): {what} ({p.policy_source}).")
    return ("\n" + "\n".join(lines)) if lines else ""


def _shard_bound(parent: Manifest) -> int:
    from datasteward.release.build.shards import DEFAULT_MAX_SHARD_BYTES

    return parent.max_shard_bytes or DEFAULT_MAX_SHARD_BYTES


def _now() -> str:
    from datasteward.ledger.chain import utc_now

    return utc_now()


def _suppress(
    project: Path,
    pending: list[TakedownInfo],
    matches: Matches,
    erase_hashes: dict[int, list[str]],
) -> int:
    """Add every request (text requests: the matched ids) to the project's suppression list.

    An erasing request is suppressed by the matched ids and content hashes: the requested
    value (a URL, a name) must not outlive the erasure."""
    from datasteward.rights.suppression import SuppressionList

    existing = {(e.kind, e.value) for e in SuppressionList.load(project)}
    added = 0
    for t in pending:
        reason = f"takedown #{t.takedown_id}: {t.reason}"
        if t.takedown_id in erase_hashes:
            ids = sorted({m.id for m in matches.items if m.takedown_id == t.takedown_id})
            items = [("id", i) for i in ids]
            items += [("sha256", h) for h in sorted(set(erase_hashes[t.takedown_id]))]
        elif t.kind == "text":
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


def _receipt(
    project: Path,
    t: TakedownInfo,
    found: dict[str, int],
    patches: dict[str, str],
    extra: dict[str, Any],
) -> Path:
    """The notice for the requester: what was found where, and which releases replace which."""
    path = project / ".datasteward" / "takedowns" / f"{t.takedown_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                **extra,
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
