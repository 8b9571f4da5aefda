"""Background jobs with persisted state: a takedown executed after a steward's approval.

A job is a JSON file under ``.datasteward/jobs/`` (queued → running → done | failed, with its
progress), so its state survives a page reload and a server restart. Jobs run in a worker
thread of the server process, one at a time per project (a file lock serialises them across
the workers of several processes too). ``resume`` runs the jobs a stopped server left queued
or running: the takedown they apply finishes what an interrupted one started.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from datasteward.ledger.chain import utc_now

log = logging.getLogger(__name__)
JOBS_DIR = Path(".datasteward") / "jobs"
#: A job's work: (project, request id, progress) -> result
Work = Callable[[Path, int, Callable[[int, int, str], None]], dict[str, Any]]


class JobStore:
    """The jobs of one project, as files."""

    def __init__(self, project: Path) -> None:
        self.dir = project / JOBS_DIR
        self.project = project

    def create(self, *, kind: str, request_id: int) -> dict[str, Any]:
        job = {
            "job_id": uuid.uuid4().hex,
            "kind": kind,
            "request_id": request_id,
            "state": "queued",
            "done": 0,
            "total": 0,
            "message": "waiting for the worker",
            "created_at": utc_now(),
            "finished_at": None,
            "error": None,
            "result": None,
        }
        self.save(job)
        return job

    def save(self, job: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{job['job_id']}.json"
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        tmp.write_text(json.dumps(job, sort_keys=True, indent=1), "utf-8")
        tmp.replace(path)

    def get(self, job_id: str) -> dict[str, Any] | None:
        if not job_id.isalnum():
            return None
        path = self.dir / f"{job_id}.json"
        if not path.is_file():
            return None
        value: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return value

    def all(self) -> list[dict[str, Any]]:
        if not self.dir.is_dir():
            return []
        jobs = [json.loads(p.read_text("utf-8")) for p in self.dir.glob("*.json")]
        return sorted(jobs, key=lambda j: str(j["created_at"]))

    def for_request(self, request_id: int) -> dict[str, Any] | None:
        mine = [j for j in self.all() if j["request_id"] == request_id]
        return mine[-1] if mine else None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One job at a time per project, across threads and processes."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def run_job(store: JobStore, job_id: str, work: Work) -> dict[str, Any]:
    """Run one job now (in this thread), recording its progress; returns the job."""
    with store.lock():
        job = store.get(job_id)
        if job is None or job["state"] in ("done", "failed"):
            return job or {}
        job.update(state="running", message="started")
        store.save(job)

        def progress(done: int, total: int, message: str) -> None:
            job.update(done=done, total=total, message=message)
            store.save(job)

        try:
            job["result"] = work(store.project, int(job["request_id"]), progress)
            job.update(state="done", message="done")
        except Exception as exc:  # noqa: BLE001 - the job records why it failed
            log.exception("job %s failed", job_id)
            job.update(state="failed", error=str(exc), message="failed")
        job["finished_at"] = utc_now()
        store.save(job)
        return job


def start(store: JobStore, job_id: str, work: Work) -> threading.Thread:
    """Run a job in a background thread."""
    thread = threading.Thread(
        target=run_job, args=(store, job_id, work), name=f"job-{job_id[:8]}", daemon=True
    )
    thread.start()
    return thread


def resume(store: JobStore, work: Work) -> list[threading.Thread]:
    """Start again every job a stopped server left queued or running."""
    return [
        start(store, j["job_id"], work) for j in store.all() if j["state"] in ("queued", "running")
    ]
