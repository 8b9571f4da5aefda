"""Property tests (SQLite): any history verifies; any single edit of any event is named."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import start, stats_for

from datasteward.ledger import Ledger
from datasteward.ledger.chain import canonical_json, event_hash

_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda s: s.strip() != ""
)
_ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("run"),
            st.sampled_from(["succeeded", "failed", "interrupted"]),
            st.integers(0, 10**12),
            st.dictionaries(_text, st.integers(0, 10**6), max_size=3),
        ),
        st.tuples(st.just("decide"), _text, _text, st.none() | _text),
        st.tuples(st.just("estimate"), st.floats(0, 1e9, allow_nan=False), st.none()),
    ),
    min_size=1,
    max_size=6,
)


def _apply(ledger: Ledger, ops: list[tuple[object, ...]]) -> None:
    for i, op in enumerate(ops):
        if op[0] == "run":
            _, status, n, reasons = op
            start(ledger, f"run-{i}")
            assert isinstance(n, int) and isinstance(reasons, dict) and isinstance(status, str)
            stats = stats_for(n + sum(reasons.values()), reasons)
            ledger.finish_run(f"run-{i}", status=status, stats=stats)
        elif op[0] == "decide":
            _, title, rationale, tradeoff = op
            ledger.record_decision(
                title=str(title),
                rationale=str(rationale),
                tradeoff=tradeoff if isinstance(tradeoff, str) else None,
                by="prop",
            )
        else:
            ledger.record_estimate(recipe_hash="h", estimate={"wall_seconds": op[1]})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=_ops,
    victim=st.integers(min_value=0),
    field=st.sampled_from(["payload", "type", "at", "rehash"]),
)
def test_any_history_verifies_and_any_edited_event_is_named(
    ops: list[tuple[object, ...]], victim: int, field: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        with Ledger.open(project, f"sqlite:///{project / 'l.db'}") as ledger:
            _apply(ledger, ops)
            before = ledger.verify()
            assert before.ok, before.problems
            events = ledger.events()
            target = events[victim % len(events)]
            con = sqlite3.connect(project / "l.db")
            try:
                if field == "payload":
                    con.execute(
                        "UPDATE events SET payload = ? WHERE seq = ?",
                        (canonical_json({"changes": [], "forged": True}), target.seq),
                    )
                elif field == "type":
                    con.execute("UPDATE events SET type = 'forged' WHERE seq = ?", (target.seq,))
                elif field == "at":
                    con.execute(
                        "UPDATE events SET at = '1999-01-01T00:00:00.000000Z' WHERE seq = ?",
                        (target.seq,),
                    )
                else:  # edit and re-hash: only the next link (or the head) can tell
                    payload = {"changes": [], "forged": True}
                    digest = event_hash(
                        seq=target.seq,
                        type=target.type,
                        at=con.execute(
                            "SELECT at FROM events WHERE seq = ?", (target.seq,)
                        ).fetchone()[0],
                        payload=payload,
                        prev_hash=target.prev_hash,
                    )
                    con.execute(
                        "UPDATE events SET payload = ?, hash = ? WHERE seq = ?",
                        (canonical_json(payload), digest, target.seq),
                    )
                con.commit()
            finally:
                con.close()
            after = ledger.verify()
            assert not after.ok
            assert after.first_bad_seq == target.seq, after.problems
