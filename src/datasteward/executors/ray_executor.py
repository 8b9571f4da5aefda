"""The Ray executor: the local executor's run, with its tasks on a Ray cluster.

The driver is the local executor's (:class:`~datasteward.executors.local.LocalExecutor`): the
same plan, the same tasks (segment x work unit), the same done markers, ``run.json``,
``stats.json`` and ledger, written by the driver alone. Only where tasks run differs: each task
is a Ray task that reads its input by path or fsspec URL and writes its outputs under temporary
names, renames them and writes its done marker last (:func:`~datasteward.executors.task.run_task`),
so a task Ray retries (its worker died) or a run resumed after the driver died redoes only what
was not finished. A global step's finalize runs as Ray tasks too, one per partition and stage
(:mod:`datasteward.steps.partitioned`). A step's large read-only state (the contamination
step's benchmark index) is built once by the driver and shared through the object store.

The run folder must be reachable by every worker at the same path (one machine, or a shared
file system); see docs/scale.md.

``address``: ``None`` starts a Ray instance on this machine for the run (``--workers`` CPUs);
``"auto"`` connects to the cluster running on this machine; ``host:port`` or
``ray://host:port`` to that cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import socket
from collections.abc import Iterator
from typing import Any, ClassVar

from datasteward.errors import RunError
from datasteward.executors.driver import TaskRunner
from datasteward.executors.local import (
    LocalExecutor,
    Progress,
    ProgressCallback,
    RunOptions,
    RunResult,
)
from datasteward.executors.plan import Plan, PlannedStep
from datasteward.executors.task import TaskSpec, run_task
from datasteward.recipe.model import Recipe
from datasteward.runs.layout import RunLayout, task_name
from datasteward.steps.partitioned import FinalizeStage, SharesState

log = logging.getLogger(__name__)

#: How often Ray retries a task whose worker process died (killed, out of memory, node lost).
TASK_RETRIES = 3
#: Seconds to wait for a cluster's address to answer before saying it is unreachable.
CONNECT_TIMEOUT = 10.0


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RunError(
            "the Ray executor needs Ray, which is not installed",
            hint="pip install 'datasteward[ray]'",
        ) from None
    return ray


def _run_on_worker(spec: TaskSpec, shared: dict[str, Any]) -> dict[str, Any]:
    """A task on a Ray worker: adopt the shared objects, then run it as the local executor
    does."""
    ray = _ray()
    steps = ([spec.segment.apply] if spec.segment.apply else []) + list(spec.segment.local)
    for p in steps:
        ref = shared.get(p.step_id)
        if ref is not None and isinstance(p.step, SharesState):
            p.step.use_shared(ray.get(ref))
    return run_task(spec, None)


def _run_stage_part(stage: FinalizeStage, part: int) -> Any:
    return stage.run(part)


def _check_address(address: str) -> None:
    """Fail fast, in one line, when a ``host:port`` address does not answer."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise RunError(
            f"the Ray cluster at {address} is unreachable ({exc.strerror or exc})",
            hint="start it (`ray start --head`), or check --address / [run] address",
        ) from None


def _unpicklable(steps: list[PlannedStep]) -> None:
    """Name the first step that cannot be sent to a Ray worker."""
    dumps: Any = _ray().cloudpickle.dumps

    for p in steps:
        try:
            dumps(p.step)
        except Exception as exc:  # noqa: BLE001 - any pickling failure means the same
            raise RunError(
                f"step `{p.use}` ({p.step_id}{', ' + p.where if p.where else ''}) cannot be "
                f"sent to Ray workers: it cannot be pickled ({type(exc).__name__}: {exc})",
                hint="keep open files, locks and connections out of the step's attributes "
                "(create them in setup()), or run with --executor local",
            ) from None


def _cause(exc: BaseException) -> BaseException:
    """The error a task raised, out of Ray's wrapper."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


def _task_title(spec: TaskSpec) -> str:
    """A task as the run folder names it, and its first input."""
    shards = spec.unit.shards
    more = f" and {len(shards) - 1} more" if len(shards) > 1 else ""
    first = f" ({shards[0].uri}{more})" if shards else ""
    return f"task {task_name(spec.segment.index, spec.unit.rank)}{first}"


def _lost(exc: BaseException, what: str) -> RunError:
    """One line for a task Ray gave up on: its worker process or node died every time."""
    text = str(exc).strip().splitlines()
    why = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return RunError(
        f"{what} did not finish: its Ray worker died on each of {TASK_RETRIES + 1} tries "
        f"({why}); the tasks finished so far are kept",
        hint="check the cluster's nodes and their memory (`ray status`, the Ray logs), then "
        "`datasteward run --resume --executor ray` redoes only the unfinished tasks",
    )


class RayRunner:
    """Runs tasks and finalize stages as Ray tasks, and reports progress as they finish."""

    def __init__(
        self,
        progress: Progress,
        notify: ProgressCallback,
        shared: dict[str, Any],
        slots: int,
    ) -> None:
        ray = _ray()
        self.ray = ray
        self.progress = progress
        self.notify = notify
        self.shared = shared
        self.slots = slots
        self._task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(_run_on_worker)
        self._part = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(_run_stage_part)

    def _wait_all(self, refs: list[Any], on_done: Any, names: list[str]) -> list[Any]:
        ray = self.ray
        order = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(refs)
        pending = list(refs)
        try:
            while pending:
                # whatever finished within a moment: one call per moment, not per task, so a
                # segment of a million tasks does not cost a million scans of the list
                done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.2)
                for ref in done:
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        raise _cause(exc) from None
                    except ray.exceptions.RayError as exc:  # the worker or node died each time
                        raise _lost(exc, names[order[ref]]) from None
                    results[order[ref]] = result
                    on_done(result)
        except BaseException:
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
        return results

    def run(self, specs: list[TaskSpec]) -> None:
        if not specs:
            return
        segment = specs[0].segment
        _unpicklable(([segment.apply] if segment.apply else []) + list(segment.local))
        refs = [self._task.remote(spec, self.shared) for spec in specs]

        def on_done(result: dict[str, Any]) -> None:
            self.progress.shards_done += 1
            self.progress.records += result["records_read"]
            self.progress.bytes_done += result["bytes_read"]
            self.notify(self.progress)

        self._wait_all(refs, on_done, [_task_title(spec) for spec in specs])

    def run_stage(self, stage: FinalizeStage) -> list[Any]:
        log.info("%s: %d Ray tasks", stage.name, stage.tasks)
        refs = [self._part.remote(stage, p) for p in range(stage.tasks)]
        names = [f"{stage.name}, part {p}" for p in range(stage.tasks)]
        return self._wait_all(refs, lambda _r: None, names)


@contextlib.contextmanager
def ray_session(address: str | None, *, num_cpus: int | None = None) -> Iterator[Any]:
    """Connect to the cluster at ``address`` (or start one on this machine when None), and
    disconnect at the end; an already connected process keeps its connection."""
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    if address and address != "auto":
        _check_address(address)
    try:
        if address:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        else:
            ray.init(num_cpus=num_cpus, log_to_driver=False, logging_level=logging.WARNING)
    except Exception as exc:  # noqa: BLE001 - Ray raises bare Exceptions too (node timeouts)
        with contextlib.suppress(Exception):
            ray.shutdown()  # what a failed start left behind
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if address:
            raise RunError(
                f"cannot connect to the Ray cluster at {address}: {why}",
                hint="start it (`ray start --head`), or check --address / [run] address",
            ) from None
        raise RunError(
            f"cannot start Ray on this machine: {why}",
            hint="a busy machine can make Ray give up starting (it waits 30 s): try again, or "
            "start a cluster with `ray start --head` and run with --address auto",
        ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_size(ray: Any) -> dict[str, Any]:
    """The cluster the run ran on: nodes alive and CPUs."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {
        "nodes": len(nodes),
        "cpus": int(ray.cluster_resources().get("CPU", 0)),
    }


class RayExecutor(LocalExecutor):
    """Runs a recipe on a Ray cluster; the same run as the local executor's."""

    executor_name: ClassVar[str] = "ray"

    def __init__(
        self,
        recipe: Recipe,
        options: RunOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        ledger_url: str | None = None,
        address: str | None = None,
    ) -> None:
        super().__init__(recipe, options, progress=progress, ledger_url=ledger_url)
        self.address = address if address is not None else recipe.run.address
        self._plan: Plan | None = None
        self._cluster: dict[str, Any] = {}

    def run(self, *, resume: str | bool = False) -> RunResult:
        with ray_session(self.address, num_cpus=self.options.workers) as ray:
            self._cluster = cluster_size(ray)
            if self.address:
                self._cluster["address"] = self.address
            # workers = the cluster's CPUs (recorded in the ledger as the run's workers)
            self.options = dataclasses.replace(self.options, workers=self._cluster["cpus"] or 1)
            return super().run(resume=resume)

    def _execute(self, plan: Plan, layout: RunLayout, workers: int) -> None:
        self._plan = plan
        super()._execute(plan, layout, workers)

    def _warm_up(self) -> None:
        """Nothing to start: the cluster's workers are Ray's."""

    def _open_runner(
        self, stack: contextlib.ExitStack, workers: int, progress: Progress
    ) -> TaskRunner:
        ray = _ray()
        shared: dict[str, Any] = {}
        steps = self._plan.steps if self._plan is not None else ()
        for p in steps:
            if isinstance(p.step, SharesState):
                try:
                    shared[p.step_id] = ray.put(p.step.build_shared(self.project_dir))
                except (pickle.PicklingError, TypeError) as exc:
                    raise RunError(
                        f"step `{p.use}` ({p.step_id}): its shared state cannot be sent to "
                        f"Ray workers ({exc})",
                        hint="run with --executor local",
                    ) from None
        return RayRunner(progress, self._notify, shared, workers)

    def _extra_stats(self) -> dict[str, Any]:
        return {"cluster": dict(self._cluster)} if self._cluster else {}
