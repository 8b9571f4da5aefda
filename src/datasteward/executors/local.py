"""The local executor: runs a plan's tasks in worker processes on one machine.

Resumable: every task writes a done marker last, so a run killed at any point and restarted
with ``resume`` skips what was finished, redoes what was not, and ends with the same output as
an uninterrupted run. Worker processes (forked by a fork server that imported the tasks' code
once) die with the run, even with ``kill -9``, and a lock on the run folder keeps two
processes from running the same run at once.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import logging
import multiprocessing as mp
import os
import queue
import resource
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from datasteward._version import __version__
from datasteward.disk import disk_full_message, failed_path, is_disk_full
from datasteward.errors import RunError
from datasteward.executors.driver import InlineRunner, TaskRunner, finalize_step
from datasteward.executors.field_check import unfilled_fields
from datasteward.executors.plan import Plan, Segment, build_plan
from datasteward.executors.source_ids import checks_ids, find_duplicates, plan_drops, refuse
from datasteward.executors.task import SUPPRESSION_STEP_ID, Suppressor, TaskSpec, run_task
from datasteward.recipe.model import Recipe
from datasteward.runs.find import started_at
from datasteward.runs.layout import (
    DEFAULT_MAX_FILE_BYTES,
    RUNS_DIR,
    RunLayout,
    read_json,
    task_name,
    write_json_atomic,
)
from datasteward.runs.stats import RunStats, StepTally
from datasteward.steps.partitioned import FinalizeStage
from datasteward.workers import die_with_parent

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How to run (not what: that is the recipe)."""

    #: Worker processes; None = the number of cores.
    workers: int | None = None
    #: Records per Arrow batch.
    batch_size: int = 2048
    #: Fail on the first unreadable record instead of quarantining it.
    strict: bool = False
    #: Largest output Parquet file before a new one is started.
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    #: Keep ``_work/`` (intermediate shards, global steps' indexes) after success.
    keep_work: bool = False
    #: Split input files over this many MB into parts, one task each; None = the recipe's
    #: ``[run] split_mb`` (default 64), 0 = never (see ``executors/plan.py``).
    split_mb: float | None = None

    @property
    def effective_workers(self) -> int:
        return max(1, self.workers if self.workers is not None else (os.cpu_count() or 1))


@dataclass
class Progress:
    """What a progress display needs; updated by the executor from the main thread."""

    segment: int = 0
    segments: int = 1
    shards_done: int = 0
    shards_total: int = 0
    #: Records read in this segment so far.
    records: int = 0
    #: Bytes of the input files read so far, of ``bytes_total`` (known up front from the
    #: files' sizes); while reading the input (segment 0) only, both 0 in later segments.
    bytes_done: int = 0
    bytes_total: int = 0
    #: ``bytes_done`` when this segment started (the part a resumed run had done already).
    bytes_resumed: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.records / elapsed if elapsed > 0 else 0.0

    @property
    def fraction(self) -> float:
        """How much of this segment is done (0 to 1): by bytes while reading the input,
        by shards after."""
        if self.bytes_total:
            return min(1.0, self.bytes_done / self.bytes_total)
        return self.shards_done / self.shards_total if self.shards_total else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the bytes rate of this segment so far (None until it is known)."""
        done = self.bytes_done - self.bytes_resumed
        if not self.bytes_total or done <= 0:
            return None
        elapsed = time.perf_counter() - self.started
        return elapsed * (self.bytes_total - self.bytes_done) / done


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class RunResult:
    run_id: str
    run_dir: Path
    run_stats: RunStats

    @property
    def stats(self) -> dict[str, Any]:
        """The statistics as ``stats.json`` holds them."""
        return self.run_stats.to_json()


def _now() -> float:
    """The clock run ids are taken from (a function, so tests can stop it)."""
    return time.time()


#: Most runs one recipe can start in one second (the suffix then has two digits).
_MAX_RUNS_PER_SECOND = 99


def new_run_id(recipe: Recipe, runs_dir: Path, *, now: float | None = None) -> str:
    """A new run id, ``YYYYMMDD-HHMMSS-<recipe hash>[-NN]``, with its folder created.

    The folder is created with ``mkdir(exist_ok=False)``, which succeeds for one caller only,
    so two processes starting the same recipe in the same second get different ids (the
    second one ``-02``, then ``-03``...). Ids sort by start time to the second, and runs of
    one recipe started in the same second sort in the order they started.
    """
    started = _now() if now is None else now
    base = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started)) + "-" + recipe.hash[:6]
    runs_dir.mkdir(parents=True, exist_ok=True)
    for n in range(1, _MAX_RUNS_PER_SECOND + 1):
        candidate = base if n == 1 else f"{base}-{n:02d}"
        try:
            (runs_dir / candidate).mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RunError(
        f"{_MAX_RUNS_PER_SECOND} runs of this recipe were started in {runs_dir} in the second "
        f"{base[:15]}; no run id is left for that second",
        hint="wait a second and start the run again",
    )


def find_unfinished_run(runs_dir: Path) -> Path | None:
    """The newest run folder without ``_SUCCESS``: newest by the rule of ``runs.find`` (the
    start time its run.json records, then the run id; never file times)."""
    if not runs_dir.exists():
        return None
    candidates = sorted(
        (
            d
            for d in runs_dir.iterdir()
            if RunLayout(d).run_json.exists() and not RunLayout(d).is_finished
        ),
        key=lambda d: (started_at(RunLayout(d)) or "", d.name),
    )
    return candidates[-1] if candidates else None


_progress_queue: Any = None


#: What the fork server imports once, before it forks the workers (:class:`_WorkerPool`): the
#: tasks' code, and pandas, which pyarrow imports on its first ``pa.array`` of a list.
_SERVER_PRELOAD = [__name__, "pandas"]


def _init_worker(progress_queue: Any, environ: dict[str, str]) -> None:
    """Worker initializer: take the driver's environment as it is now (a fork server keeps
    the one it started with; multiprocessing sets the folder and ``sys.path``), die with the
    driver (:func:`~datasteward.workers.die_with_parent`), leave Ctrl-C to it, keep the
    queue, and exit without the interpreter's teardown (:func:`_exit_now`)."""
    global _progress_queue
    if os.environ != environ:
        os.environ.clear()
        os.environ.update(environ)
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _progress_queue = progress_queue
    atexit.register(_exit_now)


def _exit_now() -> None:
    """A worker's last act: flush its logs and leave, skipping the teardown of the interpreter
    (freeing the steps' caches object by object kept the run waiting ~1 s at its end for the
    workers to exit, measured with two workers on a 21 MB file). It runs at exit, after the
    pool has no more tasks for the worker and multiprocessing has flushed the worker's queues;
    every output and done marker was written before its task returned."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _worker(spec: TaskSpec) -> dict[str, Any]:
    q = _progress_queue

    def progress(segment: int, n: int, nbytes: int) -> None:
        q.put((segment, n, nbytes))

    return run_task(spec, progress if q is not None else None)


@contextlib.contextmanager
def _run_lock(layout: RunLayout) -> Iterator[None]:
    layout.work.mkdir(parents=True, exist_ok=True)
    path = layout.work / "lock"
    fh = path.open("w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(
                f"run {layout.run_id} is being run by another process",
                hint="wait for it to finish, or stop it first",
            ) from None
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()


def _load_suppression(project_dir: Path) -> Suppressor | None:
    try:
        from datasteward.rights.suppression import SuppressionList
    except ImportError:
        return None
    sl = SuppressionList.load(project_dir)
    return sl if len(sl) else None


class _WorkerPool:
    """Worker processes for a whole run, with a queue that carries progress back.

    Workers are forked by multiprocessing's fork server: a process of its own, started once
    per driver process (:meth:`warm_up`, before the run is planned), that imports
    ``_SERVER_PRELOAD`` and then forks a worker on request. A worker so starts in a few
    milliseconds with the tasks' code loaded, where a spawned one spent ~0.7 CPU-s importing
    it. The server does nothing but fork (no progress thread, no ledger connection, no event
    loop), so forking it is safe where forking the driver is not. Workers die with the
    driver (:func:`~datasteward.workers.die_with_parent`); the progress queue is handed to
    them when they start.
    """

    @staticmethod
    def warm_up() -> None:
        """Start the fork server now (once per process; this does not wait for it), so it
        imports what tasks need while the driver plans the run and opens the ledger."""
        from multiprocessing import forkserver

        forkserver.set_forkserver_preload(_SERVER_PRELOAD)
        forkserver.ensure_running()

    def __init__(self, workers: int, progress: Progress, notify: ProgressCallback) -> None:
        self.workers = self.slots = workers
        self.progress = progress
        self.notify = notify

    def __enter__(self) -> _WorkerPool:
        ctx = mp.get_context("forkserver")
        self.queue: Any = ctx.Queue()
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(self.queue, dict(os.environ)),
        )
        self._stop = threading.Event()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            self._stop.set()
            self._drainer.join(timeout=2)
            self.queue.close()
            self.queue.join_thread()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                _seg, n, nbytes = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            self.progress.records += n
            self.progress.bytes_done += nbytes
            self.notify(self.progress)

    def run(self, specs: list[TaskSpec]) -> None:
        pending: set[Future[dict[str, Any]]] = {self.pool.submit(_worker, spec) for spec in specs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    fut.result()  # re-raises a task's error here
                    self.progress.shards_done += 1
                    self.notify(self.progress)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise

    def run_stage(self, stage: FinalizeStage) -> list[Any]:
        """A global step's finalize stage: its partition tasks on the workers."""
        return list(self.pool.map(stage.run, range(stage.tasks)))


class LocalExecutor:
    """Runs a recipe on this machine (and, extended by the Ray executor, the driver of a run
    on a cluster: see :mod:`datasteward.executors.driver`)."""

    #: The name run.json and the ledger give the executor.
    executor_name: ClassVar[str] = "local"

    def __init__(
        self,
        recipe: Recipe,
        options: RunOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        ledger_url: str | None = None,
    ) -> None:
        self.recipe = recipe
        self.options = options or RunOptions()
        self.progress_cb = progress
        self.ledger_url = ledger_url
        self.project_dir = recipe.dir
        self.runs_dir = self.project_dir / RUNS_DIR

    # ---- public -----------------------------------------------------------------------
    def run(self, *, resume: str | bool = False) -> RunResult:
        """Run the recipe; ``resume=True`` resumes the newest unfinished run, or a run id."""
        self._warm_up()
        plan = build_plan(self.recipe, split_mb=self.options.split_mb)
        if resume:
            layout = self._resume_layout(resume, plan)
            fresh = False
        else:
            layout = RunLayout(self.runs_dir / new_run_id(self.recipe, self.runs_dir))
            fresh = True
        with _run_lock(layout):
            return self._run(plan, layout, fresh=fresh)

    # ---- internals --------------------------------------------------------------------
    def _resume_layout(self, resume: str | bool, plan: Plan) -> RunLayout:  # noqa: FBT001
        if isinstance(resume, str):
            root = self.runs_dir / resume
            if not RunLayout(root).run_json.exists():
                raise RunError(
                    f"no run {resume!r} in {self.runs_dir}", hint="see `datasteward status`"
                )
        else:
            found = find_unfinished_run(self.runs_dir)
            if found is None:
                raise RunError(
                    f"no unfinished run to resume in {self.runs_dir}",
                    hint="start a new run with `datasteward run`",
                )
            root = found
        layout = RunLayout(root)
        if layout.success.exists():
            raise RunError(f"run {layout.run_id} already finished; nothing to resume")
        info = read_json(layout.run_json)
        if info.get("recipe_hash") != self.recipe.hash:
            raise RunError(
                f"the recipe changed since run {layout.run_id} started, so it cannot be resumed",
                hint="start a new run (the old one stays as it is), or restore the recipe",
            )
        described = plan.describe()
        if (
            info.get("plan", {}).get("shards") == described["shards"]
            and info.get("plan", {}).get("units") != described["units"]
        ):
            raise RunError(
                f"the input is split into other tasks than when run {layout.run_id} started "
                "(another --split-mb or [run] split_mb)",
                hint="resume with the --split-mb the run started with, or start a new run",
            )
        if [info.get("plan", {}).get(k) for k in ("shards", "units")] != [
            described["shards"],
            described["units"],
        ]:
            raise RunError(
                f"the input files changed since run {layout.run_id} started",
                hint="start a new run",
            )
        return layout

    def _ledger(self) -> Any:
        from datasteward.ledger import Ledger

        return Ledger.open(self.project_dir, self.ledger_url)

    def _run(self, plan: Plan, layout: RunLayout, *, fresh: bool) -> RunResult:
        opts = self.options
        workers = min(opts.effective_workers, max(1, len(plan.units)))
        if fresh:
            layout.make()
            layout.recipe_toml.write_text(self.recipe.path.read_text(encoding="utf-8"))
            write_json_atomic(
                layout.run_json,
                {
                    "run_id": layout.run_id,
                    "recipe_hash": self.recipe.hash,
                    "recipe_path": str(self.recipe.path),
                    "datasteward_version": __version__,
                    "executor": self.executor_name,
                    "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "plan": plan.describe(),
                },
            )
        else:
            layout.make()
        ledger = self._ledger()
        try:
            if fresh:
                self._start_in_ledger(ledger, layout, workers)
            elif ledger.get_run(layout.run_id) is None:
                # the run's folder was made but the ledger could not record its start (e.g.
                # the disk was full): record it now
                self._start_in_ledger(ledger, layout, workers)
            else:
                ledger.resume_run(layout.run_id)
            started = time.perf_counter()
            try:
                self._execute(plan, layout, workers)
                stats = self._finish(plan, layout, time.perf_counter() - started)
            except BaseException as exc:
                self._fail(ledger, plan, layout, started, exc)
                raise
            ledger.finish_run(layout.run_id, status="succeeded", stats=stats)
            return RunResult(layout.run_id, layout.root, stats)
        finally:
            ledger.close()

    def _fail(
        self, ledger: Any, plan: Plan, layout: RunLayout, started: float, exc: BaseException
    ) -> None:
        """Record in the ledger how the run ended, best effort, and raise what to tell the user.

        A full disk becomes one line naming the disk (and saying whether the ledger could
        record the failure); other errors are re-raised by the caller as they are, and a
        ledger that cannot record them is logged, not allowed to hide them.
        """
        interrupted = isinstance(exc, KeyboardInterrupt)
        full = not interrupted and is_disk_full(exc)
        if interrupted:
            status, error = "interrupted", "interrupted by the user"
        elif full:
            where = failed_path(exc) or layout.root
            status, error = "failed", f"run {layout.run_id}: {disk_full_message(where)}"
        else:
            status, error = "failed", str(exc)
        unrecorded = ""
        try:
            partial = self._aggregate(plan, layout, time.perf_counter() - started)
            partial = dataclasses.replace(partial, error=error)
            ledger.finish_run(layout.run_id, status=status, stats=partial)
        except Exception as ledger_exc:  # noqa: BLE001 - best effort: never hide the run's error
            unrecorded = (
                f"; the ledger could not record the failure either ({ledger_exc}), so it "
                "lists the run as running until it is resumed"
            )
            log.warning("run %s: %s", layout.run_id, unrecorded[2:])
        if full:
            raise RunError(
                error + unrecorded,
                hint=f"free some space, then `datasteward run --resume --run-id {layout.run_id}`",
            ) from None

    def _start_in_ledger(self, ledger: Any, layout: RunLayout, workers: int) -> None:
        opts = self.options
        ledger.start_run(
            layout.run_id,
            recipe_hash=self.recipe.hash,
            recipe_text=self.recipe.path.read_text(encoding="utf-8"),
            recipe_canonical=self.recipe.canonical(),
            datasteward_version=__version__,
            executor=self.executor_name,
            workers=workers,
            options={
                "batch_size": opts.batch_size,
                "strict": opts.strict,
                "max_file_bytes": opts.max_file_bytes,
            },
        )

    def _suppression(self) -> Suppressor | None:
        return _load_suppression(self.project_dir)

    def _specs(self, plan: Plan, layout: RunLayout, segment: Segment) -> list[TaskSpec]:
        suppression = self._suppression() if segment.index == 0 else None
        specs = []
        for unit in plan.units:
            if (layout.done / f"{task_name(segment.index, unit.rank)}.json").exists():
                continue
            specs.append(
                TaskSpec(
                    run_dir=layout.root,
                    recipe_dir=self.project_dir,
                    segment=segment,
                    unit=unit,
                    world_size=len(plan.units),
                    reader=plan.readers.get(unit.source) if segment.index == 0 else None,
                    batch_size=self.options.batch_size,
                    strict=self.options.strict,
                    max_file_bytes=self.options.max_file_bytes,
                    suppression=suppression,
                    recipe=self.recipe,
                    check_ids=segment.index == 0 and checks_ids(self.recipe.source(unit.source)),
                )
            )
        # the largest first, then in input order: a segment ends when its last task does, so
        # a large task started last would keep one worker busy while the others idle (the
        # outputs are named by rank, so the order tasks run in changes no file)
        specs.sort(key=lambda spec: -spec.unit.bytes)
        return specs

    def _check_source_ids(
        self,
        plan: Plan,
        layout: RunLayout,
        segment: Segment,
        run_specs: Callable[[list[TaskSpec]], None],
    ) -> None:
        """After segment 0: fail on repeated source ids, or quarantine the later copies by
        running again the tasks that read them (see ``executors/source_ids.py``)."""
        checked = {u.rank: u.source for u in plan.units if checks_ids(self.recipe.source(u.source))}
        if not checked:
            return
        for attempt in range(2):
            duplicates = find_duplicates(layout, checked)
            if not duplicates:
                return
            failing = [
                d for d in duplicates if self.recipe.source(d.source).on_duplicate_id == "fail"
            ]
            if failing:
                raise refuse(failing)
            if attempt:
                raise RunError(
                    f"run {layout.run_id}: {len(duplicates)} duplicate ids remain after their "
                    f"later copies were quarantined (first: `{duplicates[0].id}` at "
                    f"{duplicates[0].where})",
                    hint="this is a bug in datasteward; please report it with the recipe",
                )
            for rank in plan_drops(layout, duplicates):
                (layout.done / f"{task_name(0, rank)}.json").unlink(missing_ok=True)
            run_specs(self._specs(plan, layout, segment))

    def _execute(self, plan: Plan, layout: RunLayout, workers: int) -> None:
        progress = Progress(segments=len(plan.segments), shards_total=len(plan.units))
        with contextlib.ExitStack() as stack:
            runner = self._open_runner(stack, workers, progress)
            for segment in plan.segments:
                progress.segment = segment.index
                specs = self._specs(plan, layout, segment)
                progress.shards_done = len(plan.units) - len(specs)
                progress.records = 0
                todo = {spec.unit.rank for spec in specs}
                progress.bytes_total = sum(u.bytes for u in plan.units) if segment.index == 0 else 0
                progress.bytes_done = progress.bytes_resumed = sum(
                    u.bytes for u in plan.units if u.rank not in todo and segment.index == 0
                )
                progress.started = time.perf_counter()
                self._notify(progress)
                log.info(
                    "run %s: segment %d/%d (%s), %d of %d shards to do%s, %d worker(s)",
                    layout.run_id,
                    segment.index + 1,
                    len(plan.segments),
                    "reading the input" if segment.index == 0 else "after a global step",
                    len(specs),
                    len(plan.units),
                    f", {progress.bytes_total:,} input bytes" if progress.bytes_total else "",
                    workers,
                )
                run_specs = runner.run
                if specs:
                    run_specs(specs)
                log.info(
                    "run %s: segment %d/%d done, %d records read",
                    layout.run_id,
                    segment.index + 1,
                    len(plan.segments),
                    progress.records,
                )
                if segment.index == 0:
                    self._check_source_ids(plan, layout, segment, run_specs)
                if segment.index_into is not None:
                    finalize_step(segment, plan, layout, self.recipe, runner)

    def _warm_up(self) -> None:
        """Before planning: make worker processes quick to start (:meth:`_WorkerPool.warm_up`)
        when the run may use them."""
        if self.options.effective_workers > 1:
            _WorkerPool.warm_up()

    def _notify(self, progress: Progress) -> None:
        if self.progress_cb is not None:
            self.progress_cb(progress)

    def _open_runner(
        self, stack: contextlib.ExitStack, workers: int, progress: Progress
    ) -> TaskRunner:
        """Where this run's tasks run: this process (one worker) or a pool of processes."""
        if workers > 1:
            return stack.enter_context(_WorkerPool(workers, progress, self._notify))

        def on_records(_segment: int, n: int, nbytes: int) -> None:
            progress.records += n
            progress.bytes_done += nbytes
            self._notify(progress)

        def on_task_done() -> None:
            progress.shards_done += 1
            self._notify(progress)

        return InlineRunner(on_task_done, on_records)

    def _extra_stats(self) -> dict[str, Any]:
        """What stats.json says about where the run ran, besides the tasks' own numbers."""
        return {}

    def _aggregate(self, plan: Plan, layout: RunLayout, wall: float) -> RunStats:
        """Sum the done markers into the run's statistics (the funnel and the costs)."""
        tasks = []
        if layout.done.exists():
            tasks = [read_json(p) for p in sorted(layout.done.glob("g*.json"))]
        order = (
            [SUPPRESSION_STEP_ID] if any(SUPPRESSION_STEP_ID in t["steps"] for t in tasks) else []
        ) + [p.step_id for p in plan.steps]
        uses = {p.step_id: p for p in plan.steps}
        tallies: dict[str, StepTally] = {sid: StepTally() for sid in order}
        totals: Counter[str] = Counter()
        for t in tasks:
            totals["cpu"] += t["cpu_seconds"]
            totals["bytes_read"] += t["bytes_read"]
            totals["bytes_written"] += t["bytes_written"]
            if t["segment"] == 0:
                totals["records_read"] += t["records_read"]
                totals["quarantined"] += t["quarantined"]
            if t["segment"] == len(plan.segments) - 1:
                totals["kept"] += t["records_out"]
            for sid, counts in t["steps"].items():
                tallies.setdefault(sid, StepTally()).add_json(counts)
        steps = []
        for pos, sid in enumerate(order):
            p = uses.get(sid)
            steps.append(
                tallies[sid].stats(
                    pos=pos,
                    step_id=sid,
                    use=p.use if p else "suppression",
                    options=p.step.fingerprint()["options"] if p else {},
                )
            )
        unfilled = unfilled_fields(self.recipe, layout)
        peak = max(
            [t["peak_rss_bytes"] for t in tasks]
            + [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]
        )
        return RunStats(
            run_id=layout.run_id,
            records_in=totals["records_read"] + totals["quarantined"],
            kept=totals["kept"],
            removed=sum(s.removed for s in steps),
            quarantined=totals["quarantined"],
            edited=sum(s.edited for s in steps),
            cpu_seconds=round(totals["cpu"], 3),
            wall_seconds=round(wall, 3),
            peak_memory_bytes=peak,
            bytes_read=totals["bytes_read"],
            bytes_written=totals["bytes_written"],
            steps=tuple(steps),
            extra={
                "shards": len(plan.shards),
                "tasks_per_segment": len(plan.units),
                **self._extra_stats(),
                # mapped fields no record had (a warning each; the documents read them)
                **({"field_warnings": unfilled} if unfilled else {}),
            },
        )

    def _finish(self, plan: Plan, layout: RunLayout, wall: float) -> RunStats:
        stats = self._aggregate(plan, layout, wall)
        if not stats.adds_up:
            raise RunError(
                f"run {layout.run_id}: records do not add up: {stats.records_in} in, "
                f"{stats.kept} kept + {stats.removed} removed + "
                f"{stats.quarantined} quarantined",
                hint="this is a bug in a step or in datasteward; please report it with the recipe",
            )
        write_json_atomic(layout.stats_json, stats.to_json())
        if not self.options.keep_work:
            # intermediate shards and global steps' indexes are not needed once the run is done
            import shutil

            for g in range(1, len(plan.segments)):
                shutil.rmtree(layout.segment_dir(g), ignore_errors=True)
            shutil.rmtree(layout.work / "steps", ignore_errors=True)
        layout.success.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
        return stats


def run_recipe(
    recipe: Recipe,
    options: RunOptions | None = None,
    *,
    resume: str | bool = False,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run a recipe with the local executor (the library entry point)."""
    return LocalExecutor(recipe, options, progress=progress).run(resume=resume)
