"""``datasteward release``: turn a finished run into an immutable release directory.

```
releases/<VERSION>/
  data/part-NNNNN.parquet   the kept records in id order, bounded-size shards
  index/records.parquet     id, normalised URL, host, content sha256, shard, row (takedowns)
  manifest.json             every file with sha256, bytes, rows; schema; id digest; lineage
  CHANGELOG.md NOTICE.md    and, when generated, README.md, datasheet.md/.html,
  croissant.json ...        datacite.json (see datasteward.release.documents.write)
```

The directory is written under a temporary name and renamed into place once complete; an
existing release is never overwritten. ``links_only`` publishes URLs, hashes and metadata
instead of content (see :mod:`datasteward.release.build.links`).
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datasteward._version import __version__
from datasteward.errors import ReleaseError
from datasteward.ledger.chain import utc_now
from datasteward.recipe.model import Recipe, load_recipe
from datasteward.release.build.labels import plan_labels
from datasteward.release.build.shards import (
    DEFAULT_MAX_SHARD_BYTES,
    INDEX_FILE,
    ShardSet,
    write_shards,
)
from datasteward.release.documents.changelog import data_entry
from datasteward.release.documents.context import ReleaseContext
from datasteward.release.documents.croissant import document_warnings
from datasteward.release.documents.write import write_documents
from datasteward.release.format.manifest import (
    MANIFEST,
    Manifest,
    describe_file,
    read_manifest,
    schema_to_json,
    sha256_file,
)
from datasteward.release.format.project import existing_versions, releases_dir
from datasteward.release.format.status import write_registry
from datasteward.release.format.version import Version, check_new_version
from datasteward.runs.find import find_run
from datasteward.runs.layout import RunLayout
from datasteward.runs.stats import RunStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseResult:
    version: str
    path: Path
    records: int
    files: int
    manifest: Manifest
    #: What the stewards should fix before publishing (e.g. no ``[dataset] homepage``, so
    #: Croissant's ``url`` is a placeholder); also logged as warnings.
    warnings: tuple[str, ...] = ()


def run_schema(files: list[Path]) -> pa.Schema:
    """One schema for every kept file of a run (steps may add columns to some)."""
    schemas = [pq.read_schema(f) for f in files]
    return pa.unify_schemas(schemas, promote_options="permissive").remove_metadata()


def run_batches(
    run_dir: Path, schema: pa.Schema, *, batch_rows: int = 16_384
) -> Iterator[pa.RecordBatch]:
    """The kept records of a run in ascending id order (DuckDB sorts, spilling if needed)."""
    import duckdb

    glob = RunLayout(run_dir).data_glob
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        cols = ", ".join(f'"{n}"' for n in schema.names)
        reader: pa.RecordBatchReader = con.sql(
            f"SELECT {cols} FROM read_parquet($glob, union_by_name = true) ORDER BY id",
            params={"glob": glob},
        ).to_arrow_reader(batch_rows)
        yield from reader
    finally:
        con.close()


def read_run_stats(run_dir: Path) -> RunStats | None:
    """The run's ``stats.json``, typed; None if the run did not write one."""
    p = RunLayout(run_dir).stats_json
    return RunStats.read(p) if p.exists() else None


def read_run_recipe(run_dir: Path) -> Recipe | None:
    """The recipe the run was made with (its copy in the run folder), typed; None without one."""
    p = RunLayout(run_dir).recipe_toml
    return load_recipe(p) if p.exists() else None


def _diff_against(parent_dir: Path, new_dir: Path) -> tuple[int, int]:
    """(ids added, ids removed) between two releases, from their indexes."""
    import duckdb

    con = duckdb.connect()
    try:
        a, b = str(parent_dir / INDEX_FILE), str(new_dir / INDEX_FILE)
        added = con.execute(
            "SELECT count(*) FROM read_parquet(?) n ANTI JOIN read_parquet(?) p USING (id)", [b, a]
        ).fetchone()
        removed = con.execute(
            "SELECT count(*) FROM read_parquet(?) p ANTI JOIN read_parquet(?) n USING (id)", [a, b]
        ).fetchone()
    finally:
        con.close()
    return int(added[0]) if added else 0, int(removed[0]) if removed else 0


def make_release(
    project: Path,
    version: str,
    *,
    run: str | None = None,
    draft: bool = False,
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
    check: Callable[[ReleaseContext], None] | None = None,
    links_only: bool = False,
) -> ReleaseResult:
    """Release the kept records of ``run`` (default: the newest finished run) as ``version``.

    ``check`` (the datasheet gate) runs after the documents are generated and may raise to
    stop a non-draft release; nothing is published then. ``links_only`` publishes the
    records' URLs, hashes and metadata without their content; records without an http(s) URL
    or edited by a step are left out and counted in the manifest's ``links``.
    """
    project = Path(project)
    v = Version.parse(version)
    check_new_version(v, existing_versions(project))
    final = releases_dir(project) / str(v)
    if final.exists():
        raise ReleaseError(
            f"{final} exists already", hint="releases are immutable; pick a new version"
        )
    run_dir = find_run(project, run)
    layout = RunLayout(run_dir)
    if not layout.is_finished:
        raise ReleaseError(
            f"run {run_dir.name} did not finish", hint="resume it with `datasteward run --resume`"
        )
    files = layout.parquet(layout.data)
    if not files:
        raise ReleaseError(f"run {run_dir.name} kept no records", hint="nothing to release")
    schema = run_schema(files)
    if "id" not in schema.names:
        raise ReleaseError(
            f"run {run_dir.name} has no `id` column", hint="is it a datasteward run?"
        )
    run_info = layout.read_info()
    parents = existing_versions(project)
    parent = str(parents[-1]) if parents else None
    recipe = read_run_recipe(run_dir)
    links: dict[str, Any] | None = None
    out_schema = schema
    plan = None
    if links_only:
        from datasteward.release.build.links import plan_links

        plan = plan_links(run_dir, schema)
        links, out_schema = plan.describe(), plan.schema
    labels = plan_labels(project, recipe, out_schema)  # the recorded aggregate labels
    out_schema = labels.schema(out_schema)

    def batches() -> Iterator[pa.RecordBatch]:
        if plan is None:
            return labels.apply(run_batches(run_dir, schema))
        from datasteward.release.build.links import links_batches

        return labels.apply(links_batches(run_dir, plan))

    def fill(tmp: Path) -> tuple[ShardSet, str]:
        shards = write_shards(tmp, batches(), out_schema, max_shard_bytes=max_shard_bytes)
        added, removed = (
            _diff_against(releases_dir(project) / parent, tmp) if parent else (shards.rows, 0)
        )
        entry = data_entry(
            version=str(v),
            date=utc_now(),
            records=shards.rows,
            run_id=run_dir.name,
            recipe_hash=run_info.get("recipe_hash"),
            parent=parent,
            added=added,
            removed=removed,
            draft=draft,
        )
        return shards, entry

    result = publish(
        project,
        v,
        fill=fill,
        schema=out_schema,
        parent=parent,
        run_id=run_dir.name,
        recipe_hash=run_info.get("recipe_hash"),
        stats=read_run_stats(run_dir),
        recipe=recipe,
        draft=draft,
        kind="data",
        check=check,
        max_shard_bytes=max_shard_bytes,
        links=links,
    )
    for note in labels.notes:
        log.info("%s", note)
    for note in labels.warnings:
        log.warning("%s", note)
    return replace(result, warnings=result.warnings + labels.warnings)


def publish(
    project: Path,
    v: Version,
    *,
    fill: Callable[[Path], tuple[ShardSet, str]],
    schema: pa.Schema,
    parent: str | None,
    run_id: str | None,
    recipe_hash: str | None,
    stats: RunStats | None,
    recipe: Recipe | None,
    draft: bool,
    kind: str,
    takedowns: list[dict[str, Any]] | None = None,
    check: Callable[[ReleaseContext], None] | None = None,
    max_shard_bytes: int | None = None,
    links: dict[str, Any] | None = None,
    dataset_name: str | None = None,
) -> ReleaseResult:
    """Write a release under a temporary name, document it, then rename it into place.

    ``links`` (the manifest's ``links`` entry) makes it a links-only release. Without a recipe,
    the dataset is named ``dataset_name`` (or after the project folder).
    """
    base = releases_dir(project)
    base.mkdir(parents=True, exist_ok=True)
    final = base / str(v)
    tmp = _new_dir(base, prefix=f".{v}-")
    try:
        shards, entry = fill(tmp)
        created = utc_now()
        data_entries = [describe_file(tmp, s.path, role="data", rows=s.rows) for s in shards.shards]
        parent_dir = base / parent if parent else None
        info = recipe.dataset if recipe is not None else None
        ctx = ReleaseContext(
            project=project,
            root=tmp,
            version=str(v),
            dataset=info.name if info else (dataset_name or project.resolve().name),
            description=info.description if info else "",
            homepage=info.homepage if info else None,
            stewards=recipe.stewards if recipe is not None else (),
            created_at=created,
            run_id=run_id,
            recipe_hash=recipe_hash,
            parent=parent,
            records=shards.rows,
            schema=schema,
            data_files=data_entries,
            stats=stats,
            changelog_entry=entry,
            parent_changelog=(
                (parent_dir / "CHANGELOG.md").read_text("utf-8")
                if parent_dir and (parent_dir / "CHANGELOG.md").exists()
                else None
            ),
            takedowns=takedowns or [],
            draft=draft,
            recipe=recipe,
            links_only=links is not None,
            links=links,
        )
        docs = write_documents(ctx)
        notes = tuple(document_warnings(ctx))
        if check is not None:
            check(ctx)
        manifest = Manifest(
            version=str(v),
            dataset=ctx.dataset,
            created_at=created,
            datasteward_version=__version__,
            run_id=run_id,
            recipe_hash=recipe_hash,
            parent=parent,
            records=shards.rows,
            ids_sha256=shards.digest.hexdigest(),
            schema=schema_to_json(schema),
            files=[
                *data_entries,
                describe_file(tmp, INDEX_FILE, role="index", rows=shards.index_rows),
                *(describe_file(tmp, rel, role=role) for rel, role in docs),
            ],
            takedowns=takedowns or [],
            links_only=links is not None,
            links=links,
            draft=draft,
            max_shard_bytes=max_shard_bytes,
            ledger_head=_ledger_head(project),
        )
        manifest.write(tmp)
        if final.exists():
            raise ReleaseError(f"{final} appeared while writing; not overwriting it")
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _record(project, manifest, final, kind=kind)
    write_registry(project)
    log.info("released %s: %d records in %d shards", v, manifest.records, len(data_entries))
    return ReleaseResult(
        str(v), final, manifest.records, len(manifest.files), manifest, warnings=notes
    )


def _new_dir(base: Path, *, prefix: str) -> Path:
    """A new, uniquely named directory with the umask's permissions (0755 under umask 022),
    so a web server running as another user can serve the release (``tempfile.mkdtemp``
    would make it 0700)."""
    for _ in range(100):
        path = base / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise ReleaseError(f"could not create a temporary directory in {base}", hint="clean it up")


def _ledger_head(project: Path) -> str | None:
    """The hash of the ledger's last event now (None before any event): the manifest's
    ``ledger_head``, which ``log verify`` finds in the chain or reports."""
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        seq, head = ledger.head()
    return head if seq > 0 else None


def _record(project: Path, manifest: Manifest, final: Path, *, kind: str) -> None:
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        ledger.record_release(
            {
                "version": manifest.version,
                "dataset": manifest.dataset,
                "kind": kind,
                "run_id": manifest.run_id,
                "parent": manifest.parent,
                "recipe_hash": manifest.recipe_hash,
                "records": manifest.records,
                "ids_sha256": manifest.ids_sha256,
                "manifest_sha256": sha256_file(final / MANIFEST),
                "draft": manifest.draft,
                "created_at": manifest.created_at,
            },
        )


__all__ = ["ReleaseResult", "make_release", "publish", "read_manifest"]
