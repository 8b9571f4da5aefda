"""The ``Ledger``: runs, estimates and decisions, each change recorded as a chained event."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from datasteward.disk import disk_full_message, is_disk_full
from datasteward.errors import LedgerError
from datasteward.ledger import migrate
from datasteward.ledger._engine import (
    create_ledger_engine,
    empty_ledger_engine,
    redact,
    resolve_url,
    transaction,
)
from datasteward.ledger._read import run_infos, to_decision_info, to_event_info
from datasteward.ledger._validate import (
    FINAL_STATUSES,
    RUN_STATUSES,
    as_int,
    as_json,
    run_stats_columns,
    step_rows,
    typed_stats,
)
from datasteward.ledger._writes import Changes
from datasteward.ledger.chain import canonical_json, lock_head, utc_now
from datasteward.ledger.erasures import ErasureRecords
from datasteward.ledger.infos import DecisionInfo, EventInfo, RunInfo, VerifyResult
from datasteward.ledger.integrity import DAMAGE_HINT, check_file, is_damage, sqlite_file
from datasteward.ledger.releases import ReleaseRecords
from datasteward.ledger.reviews import ReviewRecords
from datasteward.ledger.subscriptions import SubscriptionRecords
from datasteward.ledger.tables import (
    chain_head,
    decisions,
    estimates,
    events,
    run_steps,
    runs,
    step_reasons,
)
from datasteward.ledger.web_access import WebAccessRecords
from datasteward.ledger.web_requests import WebRequestRecords
from datasteward.runs.stats import RunStats

log = logging.getLogger(__name__)

#: What to do when the ledger cannot be written because it, or the project, is read-only.
_READ_ONLY_HINT = (
    "the ledger (or the project directory) is read-only: run this command where the project "
    "is writable; reading commands (status, log, log verify) work on a read-only project"
)


def _is_read_only(text: str) -> bool:
    lowered = text.lower()
    return "readonly" in lowered or "read-only" in lowered or "read only" in lowered


def _io_hint() -> str:
    """What to check after SQLite's "disk I/O error" (a file size limit makes writes fail
    with EFBIG, which SQLite reports so)."""
    hint = "SQLite could not read or write the file: check the disk (free space, errors)"
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (ImportError, OSError, ValueError):
        return hint
    if soft != resource.RLIM_INFINITY:
        hint += f"; a file size limit is set (`ulimit -f`: {soft:,} bytes): raise it"
    return hint


def _missing_file(url: str) -> bool:
    """An SQLite ledger URL whose file does not exist or is empty."""
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url[len("sqlite:///") :])
    return not path.is_file() or path.stat().st_size == 0


class Ledger(
    ReleaseRecords,
    ReviewRecords,
    WebRequestRecords,
    WebAccessRecords,
    ErasureRecords,
    SubscriptionRecords,  # "notify me of corrections" on the site (issue 15)
):
    """The project's ledger. Open with ``Ledger.open(project_dir)``; close when done.

    Runs, estimates, decisions and the event log are methods here; releases, takedown
    requests and deprecations come from :class:`~datasteward.ledger.releases.ReleaseRecords`,
    review samples and judgements from :class:`~datasteward.ledger.reviews.ReviewRecords`.

    Every write runs in one transaction that locks the chain head, writes its rows and appends
    the event describing them, so concurrent writers (other processes too) queue, and the
    event log never forks.
    """

    def __init__(self, engine: Engine, url: str, *, read_only: bool = False) -> None:
        self._engine = engine
        self.url = url
        #: Opened for reading only: every write is refused by the database itself.
        self.read_only = read_only
        #: Read-only and there was no ledger (no file, an empty file, no tables): read as an
        #: empty ledger. ``log verify`` then reports the runs and releases it does not know.
        self.absent = False

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        project_dir: Path,
        url: str | None = None,
        *,
        check_integrity: bool = True,
        read_only: bool = False,
    ) -> Ledger:
        """Open (creating and migrating forward as needed) the ledger of ``project_dir``.

        ``url`` (else ``$DATASTEWARD_LEDGER_URL``) selects another database than the
        default SQLite file ``<project_dir>/.datasteward/ledger.db``. An SQLite file up to
        64 MB is first checked with SQLite's ``quick_check``, and a damaged file is refused
        before anything is written to it; ``check_integrity=False`` skips that (``verify``
        runs the full check itself and reports it).

        ``read_only`` (the reading commands: ``status``, ``log``, ``log verify``...): the
        database is opened so that it refuses writes (SQLite ``mode=ro``), nothing is created
        and no migration runs, so a read-only project can be read. A ledger that does not
        exist (or is an empty file) reads as empty (:attr:`absent`); one at an older schema
        is refused with a hint.
        """
        resolved = resolve_url(Path(project_dir), url)
        if read_only and _missing_file(resolved):
            return cls._empty(resolved)
        engine = create_ledger_engine(resolved, read_only=read_only)
        try:
            damage = check_file(engine, full=False) if check_integrity else None
            if damage is not None:
                raise LedgerError(damage, hint=DAMAGE_HINT)
            if not migrate.is_current(engine):
                if read_only and not migrate.has_tables(engine):
                    engine.dispose()
                    return cls._empty(resolved)
                if read_only:
                    raise LedgerError(
                        f"the ledger at {redact(resolved)} has an older schema than this "
                        "datasteward reads, and it is opened read-only here",
                        hint="run any command that writes (e.g. `datasteward run`) once with "
                        "write access to the project; it migrates the ledger",
                    )
                migrate.upgrade(engine)
        except LedgerError:
            engine.dispose()
            raise
        except SQLAlchemyError as exc:
            engine.dispose()
            text = _short(exc)
            if is_damage(text):
                raise LedgerError(_damaged(engine, resolved, text), hint=DAMAGE_HINT) from None
            if is_disk_full(exc):
                raise _disk_full(engine, resolved, "open the ledger", text) from None
            if _is_read_only(text):
                hint = _READ_ONLY_HINT
            elif "disk i/o error" in text.lower():
                hint = _io_hint()
            else:
                hint = "check that the database exists and is reachable, and that you may write it"
            raise LedgerError(
                f"cannot open the ledger at {redact(resolved)}: {text}", hint=hint
            ) from None
        return cls(engine, resolved, read_only=read_only)

    @classmethod
    def _empty(cls, url: str) -> Ledger:
        engine = empty_ledger_engine()
        migrate.upgrade(engine)
        ledger = cls(engine, url, read_only=True)
        ledger.absent = True
        return ledger

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({redact(self.url)!r})"

    @contextmanager
    def _tx(self, what: str, *, write: bool = False) -> Iterator[Connection]:
        try:
            with transaction(self._engine, write=write) as conn:
                yield conn
        except SQLAlchemyError as exc:
            text = _short(exc)
            if is_damage(text):
                raise LedgerError(
                    f"cannot {what}: " + _damaged(self._engine, self.url, text), hint=DAMAGE_HINT
                ) from None
            if is_disk_full(exc):
                raise _disk_full(self._engine, self.url, what, text) from None
            busy = isinstance(exc, OperationalError) and ("locked" in text or "timeout" in text)
            if _is_read_only(text):
                hint = _READ_ONLY_HINT
            elif "disk i/o error" in text.lower():
                hint = _io_hint()
            elif busy:
                hint = "another process holds the ledger locked; retry when it is done"
            else:
                hint = (
                    "the database may have been changed outside datasteward; "
                    "run `datasteward log verify`"
                )
            raise LedgerError(
                f"cannot {what} in the ledger at {redact(self.url)}: {text}", hint=hint
            ) from None

    @contextmanager
    def _write(self, what: str) -> Iterator[tuple[Changes, str]]:
        """A write transaction with the chain head locked first (so ids follow event order)."""
        with self._tx(what, write=True) as conn:
            lock_head(conn)
            yield Changes(conn), utc_now()

    # -- runs ----------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        *,
        recipe_hash: str,
        recipe_text: str,
        recipe_canonical: str,
        datasteward_version: str,
        executor: str,
        workers: int,
        options: dict[str, Any],
    ) -> None:
        """Record that a run started (status ``running``, ``started_at`` now)."""
        if not run_id or not isinstance(run_id, str):
            raise LedgerError(f"a run id must be a non-empty string, got {run_id!r}")
        with self._write("start a run") as (changes, now):
            if _get_run_row(changes.conn, run_id) is not None:
                raise LedgerError(
                    f"run {run_id!r} is already in the ledger",
                    hint="use resume_run to continue it, or start a run with a new id",
                )
            changes.put(
                runs,
                {
                    "run_id": run_id,
                    "status": "running",
                    "recipe_hash": recipe_hash,
                    "recipe_text": recipe_text,
                    "recipe_canonical": recipe_canonical,
                    "datasteward_version": datasteward_version,
                    "executor": executor,
                    "workers": as_int(workers, what="workers"),
                    "options": as_json(options, what=f"run {run_id}: options"),
                    "started_at": now,
                    "finished_at": None,
                    "resumes": 0,
                },
            )
            changes.commit_event("run.started", at=now)

    def resume_run(self, run_id: str) -> None:
        """Record that a run was resumed: status back to ``running``, ``resumes`` + 1."""
        with self._write("resume a run") as (changes, now):
            row = _require_run(changes.conn, run_id)
            if row["status"] == "succeeded":
                raise LedgerError(
                    f"run {run_id!r} already succeeded; there is nothing to resume",
                    hint="start a new run instead",
                )
            changes.change(
                runs,
                {"run_id": run_id},
                {"status": "running", "resumes": int(row["resumes"]) + 1, "finished_at": None},
            )
            changes.commit_event("run.resumed", at=now)

    def finish_run(self, run_id: str, *, status: str, stats: RunStats | Mapping[str, Any]) -> None:
        """Record how a run ended, with its statistics and per-step funnel (typed or JSON)."""
        if status not in FINAL_STATUSES:
            raise LedgerError(
                f"cannot finish run {run_id!r} with status {status!r}",
                hint="use one of: " + ", ".join(FINAL_STATUSES),
            )
        typed = typed_stats(stats, run_id=run_id)
        columns = run_stats_columns(typed, run_id=run_id)
        steps = step_rows(typed, run_id=run_id)
        with self._write("finish a run") as (changes, now):
            row = _require_run(changes.conn, run_id)
            if row["status"] != "running":
                raise LedgerError(
                    f"run {run_id!r} is not running (it {row['status']}); cannot finish it again",
                    hint="resume it first if it should continue",
                )
            changes.delete_where(step_reasons, {"run_id": run_id})
            changes.delete_where(run_steps, {"run_id": run_id})
            changes.change(
                runs, {"run_id": run_id}, {"status": status, "finished_at": now, **columns}
            )
            for step, reasons in steps:
                changes.put(run_steps, step)
                for reason, count in sorted(reasons.items()):
                    changes.put(
                        step_reasons,
                        {
                            "run_id": run_id,
                            "position": step["position"],
                            "reason": reason,
                            "count": count,
                        },
                    )
            changes.commit_event("run.finished", at=now)

    def get_run(self, run_id: str) -> RunInfo | None:
        with self._tx("read a run") as conn:
            row = _get_run_row(conn, run_id)
            return run_infos(conn, [row])[0] if row is not None else None

    def list_runs(self, *, limit: int = 50) -> list[RunInfo]:
        """The newest ``limit`` runs, newest first."""
        with self._tx("list runs") as conn:
            rows = conn.execute(
                select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(limit)
            ).mappings()
            return run_infos(conn, rows)

    def latest_run(self, *, status: str | None = None) -> RunInfo | None:
        """The newest run (with that status, if given)."""
        if status is not None and status not in RUN_STATUSES:
            raise LedgerError(
                f"unknown run status {status!r}", hint="use one of: " + ", ".join(RUN_STATUSES)
            )
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)
        if status is not None:
            query = query.where(runs.c.status == status)
        with self._tx("read the latest run") as conn:
            found = run_infos(conn, conn.execute(query).mappings())
        return found[0] if found else None

    # -- estimates -----------------------------------------------------------------------

    def record_estimate(
        self, *, recipe_hash: str, estimate: dict[str, Any], run_id: str | None = None
    ) -> int:
        """Store a cost estimate for a recipe; returns its id."""
        payload = as_json(estimate, what="estimate")
        with self._write("record an estimate") as (changes, now):
            row = changes.put(
                estimates,
                {
                    "recipe_hash": recipe_hash,
                    "run_id": run_id,
                    "created_at": now,
                    "estimate": payload,
                },
            )
            changes.commit_event("estimate.recorded", at=now)
        return int(row["estimate_id"])

    def latest_estimate(self, recipe_hash: str) -> dict[str, Any] | None:
        """The estimate recorded last for this recipe, as it was given."""
        with self._tx("read an estimate") as conn:
            text = conn.execute(
                select(estimates.c.estimate)
                .where(estimates.c.recipe_hash == recipe_hash)
                .order_by(estimates.c.estimate_id.desc())
                .limit(1)
            ).scalar()
        if text is None:
            return None
        value: dict[str, Any] = json.loads(text)
        return value

    # -- decisions -----------------------------------------------------------------------

    def record_decision(
        self,
        *,
        title: str,
        rationale: str,
        tradeoff: str | None,
        by: str,
        recipe_hash: str | None = None,
    ) -> DecisionInfo:
        """Record a steward's decision: what, why, what it costs, who decided."""
        for name, value in (("title", title), ("rationale", rationale), ("by", by)):
            if not isinstance(value, str) or not value.strip():
                raise LedgerError(
                    f"a decision needs a non-empty {name}",
                    hint="say what was decided, why, and who decided it",
                )
        with self._write("record a decision") as (changes, now):
            row = changes.put(
                decisions,
                {
                    "title": title.strip(),
                    "rationale": rationale.strip(),
                    "tradeoff": tradeoff.strip() if tradeoff and tradeoff.strip() else None,
                    "decided_by": by.strip(),
                    "recipe_hash": recipe_hash,
                    "decided_at": now,
                },
            )
            changes.commit_event("decision.recorded", at=now)
        return to_decision_info(row)

    def list_decisions(self) -> list[DecisionInfo]:
        """All decisions, oldest first."""
        with self._tx("list decisions") as conn:
            rows = conn.execute(select(decisions).order_by(decisions.c.decision_id)).mappings()
            return [to_decision_info(r) for r in rows]

    # -- the event log -------------------------------------------------------------------

    def events(self, limit: int | None = None) -> list[EventInfo]:
        """The event log in order; with ``limit``, only the last ``limit`` events."""
        query = select(events).order_by(events.c.seq.desc() if limit else events.c.seq)
        if limit:
            query = query.limit(limit)
        with self._tx("read the event log") as conn:
            found = [to_event_info(r) for r in conn.execute(query).mappings()]
        return sorted(found, key=lambda e: e.seq)

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last event: anchor this elsewhere to pin history."""
        with self._tx("read the chain head") as conn:
            row = conn.execute(select(chain_head.c.seq, chain_head.c.hash)).first()
        if row is None:
            raise LedgerError("the ledger's chain head row is missing")
        return int(row.seq), str(row.hash)

    def event_seq(self, event_hash: str) -> int | None:
        """The sequence number of the event with hash ``event_hash``; None if no event has it."""
        with self._tx("find an event") as conn:
            row = conn.execute(select(events.c.seq).where(events.c.hash == event_hash)).first()
        return int(row.seq) if row is not None else None

    def run_ids(self) -> set[str]:
        """The ids of every run the ledger knows."""
        with self._tx("list runs") as conn:
            return {str(r[0]) for r in conn.execute(select(runs.c.run_id))}

    def verify(self, *, anchor: str | None = None) -> VerifyResult:
        """Recompute the chain and check every chained table against it.

        With ``anchor`` (a head hash recorded elsewhere earlier), also check that the event
        with that hash is still part of the chain. An SQLite file is first checked by SQLite
        itself (``PRAGMA integrity_check``): a damaged file is reported as such, since no
        chain read from it can be trusted.
        """
        from datasteward.ledger.verify import verify_ledger

        damage = check_file(self._engine, full=True)
        if damage is not None:
            return VerifyResult(
                ok=False,
                checked=0,
                rows_checked=0,
                head_seq=0,
                head_hash="",
                problem=damage,
                problems=(damage,),
            )
        with self._tx("verify the ledger") as conn:
            return verify_ledger(conn, anchor=anchor)


def _get_run_row(conn: Connection, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
    return dict(row) if row is not None else None


def _require_run(conn: Connection, run_id: str) -> dict[str, Any]:
    row = _get_run_row(conn, run_id)
    if row is None:
        raise LedgerError(
            f"run {run_id!r} is not in the ledger",
            hint="start_run must be called before resume_run or finish_run",
        )
    return row


def _damaged(engine: Engine, url: str, text: str) -> str:
    path = sqlite_file(engine)
    where = path if path is not None else redact(url)
    return f"the ledger file {where} is damaged (SQLite: {text})"


def _disk_full(engine: Engine, url: str, what: str, text: str) -> LedgerError:
    """A write that failed for want of disk space (the transaction was rolled back)."""
    path = sqlite_file(engine)
    where = disk_full_message(path) if path is not None else f"{redact(url)}: {text}"
    return LedgerError(
        f"cannot {what} in the ledger: {where}",
        hint="free some space and try again; the ledger was left as it was before this write",
    )


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["Ledger", "canonical_json"]
