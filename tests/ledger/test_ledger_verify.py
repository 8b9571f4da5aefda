"""The event chain detects changes made behind the tool's back, and names the first event."""

from __future__ import annotations

import json

import pytest
from ledger_helpers import Backend, start, stats_for

from datasteward.errors import LedgerError
from datasteward.ledger import Ledger
from datasteward.ledger.chain import canonical_json, event_hash


def _history(ledger: Ledger) -> None:
    """Five events: run a started/finished (failed), decision, run b started/finished."""
    start(ledger, "run-a")
    ledger.finish_run(
        "run-a", status="failed", stats=stats_for(200, {"too_short": 9}, error="disk full")
    )
    ledger.record_decision(
        title="Drop pages under 50 words",
        rationale="They are menus and cookie banners.",
        tradeoff="Short poems go too.",
        by="Ana",
    )
    start(ledger, "run-b")
    ledger.finish_run("run-b", status="succeeded", stats=stats_for(200, {"too_short": 9}))


def _seq_of(ledger: Ledger, type_: str, n: int = 0) -> int:
    return [e.seq for e in ledger.events() if e.type == type_][n]


def test_an_untouched_ledger_verifies(ledger: Ledger) -> None:
    _history(ledger)
    ledger.record_estimate(recipe_hash="a" * 64, estimate={"wall_seconds": 3.5})
    result = ledger.verify()
    assert result.ok, result.problems
    assert (result.checked, result.head_seq) == (6, 6)
    assert result.head_hash == ledger.events()[-1].hash == ledger.head()[1]
    # rows: 2 runs, 2 steps, 2 reasons, 1 decision, 1 estimate
    assert result.rows_checked == 8
    assert result.first_bad is None and result.problem == ""


def test_an_empty_ledger_verifies(ledger: Ledger) -> None:
    result = ledger.verify()
    assert result.ok and result.checked == 0 and result.head_seq == 0


def test_a_run_status_edited_with_plain_sql_is_named(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("UPDATE runs SET status = 'succeeded', error = NULL WHERE run_id = 'run-a'")
    result = ledger.verify()
    assert not result.ok
    finished = _seq_of(ledger, "run.finished")
    assert result.first_bad_seq == finished == 2
    assert result.first_bad is not None and result.first_bad.type == "run.finished"
    assert "runs row run_id='run-a'" in result.problem
    assert "status is 'succeeded' but event #2 recorded 'failed'" in result.problem
    assert "and 1 more column" in result.problem


def test_a_decision_rationale_edited_is_named(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("UPDATE decisions SET rationale = 'Because the CEO said so.'")
    result = ledger.verify()
    assert not result.ok
    assert result.first_bad_seq == _seq_of(ledger, "decision.recorded") == 3
    assert (
        "decisions row decision_id=1 was changed outside datasteward: rationale" in result.problem
    )


def test_a_reason_count_edited_is_named(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("UPDATE step_reasons SET count = 1 WHERE run_id = 'run-b'")
    result = ledger.verify()
    assert result.first_bad_seq == _seq_of(ledger, "run.finished", 1) == 5
    assert "step_reasons row" in result.problem and "count is 1 but event #5 recorded 9" in (
        result.problem
    )


def test_a_deleted_row_and_an_inserted_row_are_detected(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("DELETE FROM decisions")
    result = ledger.verify()
    assert result.first_bad_seq == 3
    assert "decisions row decision_id=1 written by event #3 was deleted" in result.problem

    backend.sql(
        "INSERT INTO decisions (decision_id, title, rationale, decided_by, decided_at) "
        "VALUES (1, 'Drop pages under 50 words', 'x', 'Mallory', '2026-01-01T00:00:00.000000Z')"
    )
    backend.sql(
        "INSERT INTO estimates (estimate_id, recipe_hash, created_at, estimate) "
        "VALUES (99, 'h', '2026-01-01T00:00:00.000000Z', '{}')"
    )
    result = ledger.verify()
    assert not result.ok and result.first_bad_seq == 3  # the altered decision comes first
    assert any(
        "estimates row estimate_id=99 was added outside datasteward" in p for p in result.problems
    )


def test_a_deleted_event_is_named(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("DELETE FROM events WHERE seq = 3")
    result = ledger.verify()
    assert not result.ok
    assert result.first_bad_seq == 3 and result.first_bad is None  # it is gone
    assert result.problem == "event #3 was removed: the log jumps to #4"


def test_the_last_event_deleted_is_caught_by_the_head(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("DELETE FROM events WHERE seq = 5")
    result = ledger.verify()
    assert result.first_bad_seq == 5
    assert "event #5 removed from the end of the log" in result.problem


def test_an_edited_event_is_named(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    payload = backend.sql("SELECT payload FROM events WHERE seq = 2")[0][0]
    forged = payload.replace('"status":"failed"', '"status":"succeeded"')
    assert forged != payload
    backend.sql("UPDATE events SET payload = ? WHERE seq = 2", (forged,))
    result = ledger.verify()
    assert result.first_bad_seq == 2
    assert result.problem.startswith("event #2 (run.finished) was altered")


def test_an_edited_and_rehashed_event_is_named(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    seq, type_, at, payload, prev = backend.sql(
        "SELECT seq, type, at, payload, prev_hash FROM events WHERE seq = 3"
    )[0]
    forged = json.loads(payload)
    forged["changes"][0]["row"]["rationale"] = "Because the CEO said so."
    new_hash = event_hash(seq=seq, type=type_, at=at, payload=forged, prev_hash=prev)
    backend.sql(
        "UPDATE events SET payload = ?, hash = ? WHERE seq = 3", (canonical_json(forged), new_hash)
    )
    backend.sql("UPDATE decisions SET rationale = 'Because the CEO said so.'")
    result = ledger.verify()
    assert result.first_bad_seq == 3
    assert result.problem == "event #3 was altered or replaced: event #4 links to a different hash"


def test_a_consistently_rewritten_chain_is_caught_only_by_an_anchor(
    backend: Backend, ledger: Ledger
) -> None:
    """The documented limit: rewriting every hash is undetectable without an outside anchor."""
    _history(ledger)
    anchor = ledger.head()[1]
    rows = backend.sql("SELECT seq, type, at, payload FROM events ORDER BY seq")
    prev = "0" * 64
    for seq, type_, at, payload in rows:
        data = json.loads(payload)
        if type_ == "decision.recorded":
            data["changes"][0]["row"]["by_proxy"] = True  # any change at all
        digest = event_hash(seq=seq, type=type_, at=at, payload=data, prev_hash=prev)
        backend.sql(
            "UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (canonical_json(data), prev, digest, seq),
        )
        prev = digest
    backend.sql("UPDATE chain_head SET hash = ? WHERE id = 1", (prev,))
    assert ledger.verify().ok
    anchored = ledger.verify(anchor=anchor)
    assert not anchored.ok
    assert f"the anchored head {anchor} is not in the chain" in anchored.problem


def test_an_event_appended_by_hand_is_detected(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    last = ledger.events()[-1]
    payload = canonical_json({"changes": []})
    digest = event_hash(
        seq=6,
        type="x",
        at="2026-01-01T00:00:00.000000Z",
        payload={"changes": []},
        prev_hash=last.hash,
    )
    backend.sql(
        "INSERT INTO events (seq, type, at, payload, prev_hash, hash) VALUES (6, 'x', "
        "'2026-01-01T00:00:00.000000Z', ?, ?, ?)",
        (payload, last.hash, digest),
    )
    result = ledger.verify()
    assert result.first_bad_seq == 6 and "added outside datasteward" in result.problem


def test_the_first_event_relinked_is_named(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("UPDATE events SET prev_hash = ? WHERE seq = 1", ("e" * 64,))
    result = ledger.verify()
    assert result.first_bad_seq == 1
    assert result.problem == "event #1 was altered: it does not link to the start of the chain"


@pytest.mark.parametrize("column", ["type", "at", "prev_hash"])
def test_any_event_field_edited_is_detected(backend: Backend, ledger: Ledger, column: str) -> None:
    _history(ledger)
    value = {
        "type": "decision.recorded",
        "at": "2020-01-01T00:00:00.000000Z",
        "prev_hash": "f" * 64,
    }
    backend.sql(f"UPDATE events SET {column} = ? WHERE seq = 4", (value[column],))
    result = ledger.verify()
    assert not result.ok
    assert result.first_bad_seq in (3, 4)  # a changed prev_hash also accuses the link before
    assert result.first_bad_seq == (3 if column == "prev_hash" else 4)


def test_a_dropped_table_is_one_clear_error(backend: Backend, ledger: Ledger) -> None:
    _history(ledger)
    backend.sql("DROP TABLE step_reasons")
    with pytest.raises(LedgerError, match="cannot verify the ledger") as info:
        ledger.verify()
    assert "step_reasons" in str(info.value) and "log verify" in str(info.value)
