"""``Project``: a dataset under stewardship, from Python — what the ``datasteward`` CLI does.

A project is a folder with ``datasteward.toml`` (the recipe), ``datasheet.toml``, the ledger
(``.datasteward/ledger.db``), ``runs/`` and ``releases/``. ``Project.open(folder)`` reads and
validates the recipe once; its methods call the same functions as the commands of the same
name, so a script and the CLI produce the same runs, audits and releases::

    import datasteward

    project = datasteward.Project.open("my-dataset")
    run = project.run(workers=2)  # datasteward run
    project.audit()  # datasteward audit (into runs/<run>/audit/)
    release = project.release("1.0.0")  # datasteward release 1.0.0
    records = datasteward.load(release.path)

This module imports only the light recipe model; everything heavy (pyarrow, duckdb, the
ledger's SQLAlchemy) is imported by the method that needs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasteward.errors import RunError
from datasteward.recipe.model import RECIPE_FILE, Recipe, load_recipe

if TYPE_CHECKING:
    import pyarrow.dataset as pads

    from datasteward.audit.config import AuditConfig
    from datasteward.erasure.apply import TakedownOutcome
    from datasteward.erasure.verify import ErasureProof
    from datasteward.executors.local import Progress, RunResult
    from datasteward.ledger import DecisionInfo, Ledger, RecipeChange, RunInfo
    from datasteward.release.build.make import ReleaseResult


@dataclass(frozen=True)
class ProjectStatus:
    """What ``datasteward status`` shows: the runs, one run's funnel, what changed since."""

    #: The newest runs in the ledger, newest first.
    runs: list[RunInfo]
    #: The run asked for, else the newest (None when there is no run yet).
    run: RunInfo | None
    #: That run's ``stats.json`` (the funnel and costs), if it finished writing it.
    stats: dict[str, Any] | None
    #: The cost estimate recorded for that run's recipe, if any.
    estimate: dict[str, Any] | None
    #: Changes of the recipe since the last successful run, each with the decision that
    #: explains it (a release refuses unexplained changes).
    recipe_changes: list[RecipeChange] = field(default_factory=list)


class Project:
    """A dataset project on disk. Open with :meth:`Project.open`."""

    def __init__(self, directory: Path, recipe: Recipe, *, ledger_url: str | None = None) -> None:
        self.directory = directory
        self.recipe = recipe
        self.ledger_url = ledger_url

    @classmethod
    def open(
        cls,
        directory: str | Path = ".",
        *,
        recipe: str | Path | None = None,
        ledger_url: str | None = None,
    ) -> Project:
        """Open the project in ``directory``; reads and validates its recipe.

        ``recipe`` names another recipe file than ``<directory>/datasteward.toml`` (the
        CLI's ``--recipe``); ``ledger_url`` another ledger database than the default SQLite
        file (as ``$DATASTEWARD_LEDGER_URL`` does). A bad recipe raises
        :class:`~datasteward.errors.RecipeError` with its file and line.
        """
        folder = Path(directory).absolute()  # a later chdir does not move the project
        return cls(
            folder,
            load_recipe(Path(recipe).absolute() if recipe is not None else folder / RECIPE_FILE),
            ledger_url=ledger_url,
        )

    def __repr__(self) -> str:
        return f"Project({str(self.directory)!r}, dataset={self.recipe.dataset.name!r})"

    # -- the ledger and the runs -----------------------------------------------------------

    def ledger(self) -> Ledger:
        """The project's ledger, open; close it (or use ``with project.ledger() as l:``)."""
        from datasteward.ledger import Ledger

        return Ledger.open(self.directory, self.ledger_url)

    def runs(self, *, limit: int = 50) -> list[RunInfo]:
        """The newest ``limit`` runs recorded in the ledger, newest first."""
        with self.ledger() as ledger:
            return ledger.list_runs(limit=limit)

    def run_dir(self, run: str | None = None) -> Path:
        """The folder of run ``run`` (an id or a path), else of the newest finished run."""
        from datasteward.runs.find import find_run

        return find_run(self.directory, run)

    # -- what the commands do --------------------------------------------------------------

    def run(
        self,
        *,
        workers: int | None = None,
        batch_size: int = 2048,
        strict: bool = False,
        keep_work: bool = False,
        resume: bool | str = False,
        progress: Callable[[Progress], None] | None = None,
        split_mb: float | None = None,
        executor: str | None = None,
        address: str | None = None,
        output: str | None = None,
    ) -> RunResult:
        """Run the recipe (``datasteward run``): read the sources, apply the steps, write
        ``runs/<run-id>/`` and record the run in the ledger.

        ``resume=True`` finishes the newest unfinished run, ``resume="<run-id>"`` that run.
        ``progress`` is called with the executor's progress as shards finish. ``split_mb``
        splits input files over that many MB into parts, one task each (default: the
        recipe's ``[run] split_mb``, 64; 0 never splits). ``executor`` is ``"local"`` or
        ``"ray"`` (default: the recipe's ``[run] executor``); ``address`` the Ray cluster
        (default: ``[run] address``; none starts Ray on this machine for the run).
        ``output`` (e.g. ``s3://bucket/runs``): copy the finished run to ``output/<run-id>/``
        (its ``_SUCCESS`` last; credentials from the environment). The run is made in
        ``runs/<run-id>/`` first (docs/scale.md says why), so a run killed before the copy ends
        is finished by ``resume`` with the same ``output``: it redoes the unfinished tasks, or,
        when the run itself had finished, copies what is not in the bucket yet.
        """
        finished = self._finished_run(resume) if output and resume else None
        result = finished or self._run(
            workers=workers,
            batch_size=batch_size,
            strict=strict,
            keep_work=keep_work,
            resume=resume,
            progress=progress,
            split_mb=split_mb,
            executor=executor,
            address=address,
        )
        if output:
            from datasteward.runs.layout import SUCCESS, WORK_DIR
            from datasteward.storage import upload_folder

            url = f"{output.rstrip('/')}/{result.run_id}"
            try:
                upload_folder(
                    result.run_dir,
                    url,
                    cls=RunError,
                    skip=(WORK_DIR,),
                    last=SUCCESS,
                    keep_present=True,
                )
            except RunError as exc:
                raise RunError(
                    f"{exc.message}; the run itself is complete in {result.run_dir}",
                    hint=f"{exc.hint}; then `datasteward run --resume --run-id "
                    f"{result.run_id} --output {output}` copies what is missing",
                ) from None
        return result

    def _finished_run(self, resume: bool | str) -> RunResult | None:  # noqa: FBT001
        """With ``resume`` and ``output``: the run to resume when it finished here already
        (only its copy was interrupted), else None (the executor resumes it)."""
        from datasteward.executors.local import RunResult, find_unfinished_run
        from datasteward.runs.find import newest_finished_id
        from datasteward.runs.layout import RunLayout, runs_dir
        from datasteward.runs.stats import RunStats

        root = runs_dir(self.directory)
        if isinstance(resume, str):
            run_id: str | None = resume
        elif find_unfinished_run(root) is None:
            run_id = newest_finished_id(self.directory)
        else:
            return None
        layout = RunLayout(root / run_id) if run_id else None
        if layout is None or not layout.is_finished:
            return None
        return RunResult(layout.run_id, layout.root, RunStats.read(layout.stats_json))

    def _run(
        self,
        *,
        workers: int | None,
        batch_size: int,
        strict: bool,
        keep_work: bool,
        resume: bool | str,
        progress: Callable[[Progress], None] | None,
        split_mb: float | None,
        executor: str | None,
        address: str | None,
    ) -> RunResult:
        from datasteward.executors.local import LocalExecutor, RunOptions

        options = RunOptions(
            workers=workers,
            batch_size=batch_size,
            strict=strict,
            keep_work=keep_work,
            split_mb=split_mb,
        )
        how = executor or self.recipe.run.executor
        if how == "ray":
            from datasteward.executors.ray_executor import RayExecutor

            return RayExecutor(
                self.recipe,
                options,
                progress=progress,
                ledger_url=self.ledger_url,
                address=address,
            ).run(resume=resume)
        if how != "local":
            raise RunError(
                f"unknown executor {how!r}", hint="use --executor local or --executor ray"
            )
        if address:
            raise RunError(
                "--address names a Ray cluster, but the run uses the local executor",
                hint='add --executor ray (or [run] executor = "ray"), or drop --address',
            )
        local = LocalExecutor(self.recipe, options, progress=progress, ledger_url=self.ledger_url)
        return local.run(resume=resume)

    def estimate(
        self,
        *,
        sample: float = 0.02,
        workers: int | None = None,
        batch_size: int = 2048,
        split_mb: float | None = None,
    ) -> dict[str, Any]:
        """Run the recipe on a ``sample`` of the input bytes and project the cost of the whole
        run (``datasteward run --estimate``); the estimate is recorded in the ledger. The
        sample is made of parts of files (``split_mb``, as in :meth:`run`), so one large file
        is sampled, not read whole."""
        from datasteward.executors.estimate import estimate_run
        from datasteward.executors.local import RunOptions

        effective = RunOptions(workers=workers).effective_workers
        est = estimate_run(
            self.recipe,
            workers=effective,
            fraction=sample,
            batch_size=batch_size,
            split_mb=split_mb,
        )
        with self.ledger() as ledger:
            ledger.record_estimate(recipe_hash=self.recipe.hash, estimate=est)
        return est

    def audit_config(self) -> AuditConfig:
        """The recipe's ``[audit]`` table (slices, lexicons, thresholds), or the defaults."""
        return self.recipe.audit

    def audit(
        self,
        run: str | None = None,
        *,
        out: str | Path | None = None,
        config: AuditConfig | None = None,
    ) -> dict[str, Any]:
        """Audit a run (``datasteward audit``): composition, funnel, slice impact, samples.

        Writes ``audit.json`` and ``report.html`` into ``out`` (default: the run's own
        ``runs/<run>/audit/``, which the datasheet of a release of that run quotes) and
        returns the figures of ``audit.json``. ``config`` defaults to :meth:`audit_config`;
        review results recorded in the ledger for the run are included.
        """
        from datasteward.audit import audit_run
        from datasteward.audit.review import review_summary
        from datasteward.runs.layout import RunLayout

        run_dir = self.run_dir(run)
        target = Path(out) if out is not None else RunLayout(run_dir).audit_json.parent
        cfg = config if config is not None else self.audit_config()
        reviews = review_summary(self.directory, run_dir.name)
        targets = self.recipe.representation.targets
        from datasteward.release.format.project import releases_of_run

        releases = releases_of_run(self.directory, run_dir.name)  # representation of each
        return audit_run(run_dir, target, cfg, reviews=reviews, targets=targets, releases=releases)

    def decide(
        self, title: str, *, rationale: str, by: str, tradeoff: str | None = None
    ) -> DecisionInfo:
        """Record a steward's decision for the current recipe (``datasteward decide``)."""
        with self.ledger() as ledger:
            return ledger.record_decision(
                title=title,
                rationale=rationale,
                tradeoff=tradeoff,
                by=by,
                recipe_hash=self.recipe.hash,
            )

    def release(
        self,
        version: str,
        *,
        run: str | None = None,
        draft: bool = False,
        max_shard_bytes: int | None = None,
        links_only: bool = False,
    ) -> ReleaseResult:
        """Release a finished run as ``releases/<version>/`` (``datasteward release``).

        Without ``draft`` the datasheet gate runs: missing answers or unexplained recipe
        changes stop the release and nothing is written. ``run`` defaults to the newest
        finished run; ``max_shard_bytes`` defaults to 512 MiB. Releases are immutable; an
        existing version is refused.
        """
        from datasteward.release.build.make import make_release
        from datasteward.release.build.shards import DEFAULT_MAX_SHARD_BYTES
        from datasteward.release.documents.gate import release_gate

        return make_release(
            self.directory,
            version,
            run=run,
            draft=draft,
            max_shard_bytes=DEFAULT_MAX_SHARD_BYTES if max_shard_bytes is None else max_shard_bytes,
            check=None if draft else release_gate,
            links_only=links_only,
        )

    def publish(self, version: str, url: str) -> tuple[str, int]:
        """Copy the release ``releases/<version>/`` to ``url/<version>/`` (e.g.
        ``s3://bucket/releases``; ``datasteward release --output``), its manifest last, where
        ``datasteward.load(url, version=...)`` loads it; the address and the number of files
        copied. Publishing again finishes an interrupted copy; a different release already at
        that address is refused. Credentials from the environment."""
        from datasteward.release.consumer.object_store import publish_release
        from datasteward.release.format.project import release_path

        return publish_release(release_path(self.directory, version), url)

    def status(self, run: str | None = None, *, limit: int = 10) -> ProjectStatus:
        """The runs, and the funnel of ``run`` (default: the newest) (``datasteward status``)."""
        from datasteward.ledger import recipe_changes
        from datasteward.runs.find import newest_finished_id
        from datasteward.runs.layout import RunLayout, runs_dir

        with self.ledger() as ledger:
            runs = ledger.list_runs(limit=limit)
            # the run every command uses (runs.find); before any finished, the newest known
            default = run or newest_finished_id(self.directory)
            chosen = ledger.get_run(default) if default else None
            if chosen is None and not run:
                chosen = runs[0] if runs else None
            if run and chosen is None:
                raise RunError(
                    f"no run {run!r} in the ledger of {self.directory}",
                    hint="`datasteward status` (or Project.runs()) lists them",
                )
            estimate = ledger.latest_estimate(chosen.recipe_hash) if chosen else None
            changes = recipe_changes(ledger, self.recipe.canonical(), self.recipe.hash)
        stats = None
        if chosen is not None:
            stats_file = RunLayout(runs_dir(self.directory) / chosen.run_id).stats_json
            if stats_file.is_file():
                stats = json.loads(stats_file.read_text(encoding="utf-8"))
        return ProjectStatus(
            runs=runs, run=chosen, stats=stats, estimate=estimate, recipe_changes=changes
        )

    def takedown(
        self,
        *,
        match: str,
        value: str,
        requester: str,
        reason: str,
        kind: str = "other",
    ) -> int:
        """Record a takedown request (``datasteward takedown add``); returns its number.

        ``match`` is what ``value`` is (url, domain, sha256, id, text); ``kind`` what kind of
        request it is (privacy, legal, copyright, harmful, other): the recipe's
        ``[takedown.policy]`` decides whether it erases or makes a patch release only."""
        from datasteward.release.build.takedown import add_request

        return add_request(
            self.directory,
            kind=match,
            value=value,
            requester=requester,
            reason=reason,
            category=kind,
        )

    def apply_takedowns(
        self,
        *,
        ids: list[int] | None = None,
        dry_run: bool = False,
        resume: bool = False,
        include_sources: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> TakedownOutcome:
        """Apply pending takedown requests (``datasteward takedown apply``): patch releases,
        and for erasing kinds the withdrawal of earlier releases and the erasure of the
        records from the project. ``progress(stage, done, total)`` reports as it goes (a web
        site can run this as a background job); ``resume`` finishes a stopped erasure."""
        from datasteward.erasure.apply import apply_takedowns

        return apply_takedowns(
            self.directory,
            ids=ids,
            dry_run=dry_run,
            resume=resume,
            include_sources=include_sources,
            progress=progress,
        )

    def verify_takedown(
        self, takedown_id: int, *, progress: Callable[[str, int, int], None] | None = None
    ) -> ErasureProof:
        """Scan the project for what an erasing takedown removed (``takedown verify``)."""
        from datasteward.erasure.verify import verify_request

        return verify_request(self.directory, takedown_id, progress=progress)

    def load(self, version: str | None = None, *, allow_deprecated: bool = False) -> pads.Dataset:
        """A release of this project (default: the newest) as a pyarrow Dataset."""
        from datasteward.release.consumer.load import load

        return load(self.directory, version, allow_deprecated=allow_deprecated)

    def releases(self) -> list[str]:
        """The versions under ``releases/``, oldest first."""
        from datasteward.release.format.project import existing_versions

        return [str(v) for v in existing_versions(self.directory)]


__all__ = ["Project", "ProjectStatus"]
