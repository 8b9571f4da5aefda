"""Check the ledger: recompute the event chain, then replay it and compare with the tables.

What is detected, and named by the first event concerned:

* an event whose stored content no longer matches its hash (edited in place);
* an event that was re-hashed after an edit (the next event links to another hash);
* an event removed from the middle (a gap in ``seq``) or from the end (the chain head names
  a later event), or an event appended without advancing the head;
* a row of a chained table that differs from what the last event writing it recorded, a row
  that was deleted, and a row no event wrote (these last name the table and key).

Chain problems are reported before row problems (rows are only as trustworthy as the chain
they are compared with); within each kind, the lowest sequence number comes first.

What cannot be detected: someone with write access who rewrites the whole chain and the head
consistently. Anchor ``Ledger.head()`` somewhere else (a release manifest, a signed tag) and
pass it as ``anchor`` to catch that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select

from datasteward.ledger._read import to_event_info
from datasteward.ledger._writes import primary_key
from datasteward.ledger.chain import event_hash
from datasteward.ledger.infos import EventInfo, VerifyResult
from datasteward.ledger.tables import CHAINED_TABLES, GENESIS_HASH, chain_head, events

_NEVER = float("inf")
_MAX_PROBLEMS = 50


@dataclass(frozen=True)
class _Problem:
    seq: float  # the event concerned; inf when no event can be named
    text: str


def verify_ledger(conn: Connection, *, anchor: str | None = None) -> VerifyResult:
    problems: list[_Problem] = []
    stored: dict[int, EventInfo] = {}
    state = {name: _TableState(table) for name, table in CHAINED_TABLES.items()}
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    anchor_seen = anchor is None
    rows = conn.execute(select(events).order_by(events.c.seq)).mappings()
    for raw in rows:
        checked += 1
        seq = int(raw["seq"])
        info = to_event_info(raw)
        stored[seq] = info
        if seq != expected_seq:
            missing = (
                f"#{expected_seq}" if seq == expected_seq + 1 else f"#{expected_seq}-#{seq - 1}"
            )
            problems.append(
                _Problem(expected_seq, f"event {missing} was removed: the log jumps to #{seq}")
            )
        elif raw["prev_hash"] != prev_hash and seq == 1:
            problems.append(
                _Problem(1, "event #1 was altered: it does not link to the start of the chain")
            )
        elif raw["prev_hash"] != prev_hash:
            problems.append(
                _Problem(
                    seq - 1,
                    f"event #{seq - 1} was altered or replaced: event #{seq} links to a "
                    "different hash",
                )
            )
        payload = _parse(raw["payload"])
        if payload is None:
            problems.append(
                _Problem(seq, f"event #{seq} ({raw['type']}) was altered: payload is not JSON")
            )
        else:
            digest = event_hash(
                seq=seq, type=raw["type"], at=raw["at"], payload=payload, prev_hash=raw["prev_hash"]
            )
            if digest != raw["hash"]:
                problems.append(
                    _Problem(
                        seq,
                        f"event #{seq} ({raw['type']}) was altered: its content no longer "
                        "matches its hash",
                    )
                )
            _replay(state, payload, seq, problems)
        if raw["hash"] == anchor:
            anchor_seen = True
        expected_seq, prev_hash = seq + 1, raw["hash"]
    last_seq = expected_seq - 1

    head = conn.execute(
        select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)
    ).first()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS_HASH)
    if head is None:
        problems.append(_Problem(_NEVER, "the chain head row was deleted"))
    elif head_seq > last_seq:
        problems.append(
            _Problem(
                last_seq + 1,
                f"event #{last_seq + 1}"
                + (f"-#{head_seq}" if head_seq > last_seq + 1 else "")
                + f" removed from the end of the log (the head names #{head_seq})",
            )
        )
    elif head_seq < last_seq:
        problems.append(
            _Problem(head_seq + 1, f"event #{head_seq + 1} was added outside datasteward")
        )
    elif head_hash != prev_hash:
        problems.append(
            _Problem(
                last_seq, f"event #{last_seq} was altered or replaced: the head names another hash"
            )
        )
    if not anchor_seen:
        problems.append(
            _Problem(
                0,
                f"the anchored head {anchor} is not in the chain: "
                "the history up to it was rewritten",
            )
        )

    # Rows are checked against the replayed chain; when the chain itself is broken, row
    # differences are mostly its consequences, so a chain problem is reported first.
    chain_problems = sorted(problems, key=lambda p: p.seq)
    row_problems: list[_Problem] = []
    rows_checked = _compare_tables(conn, state, row_problems)
    problems = chain_problems + sorted(row_problems, key=lambda p: p.seq)
    if not problems:
        return VerifyResult(
            ok=True,
            checked=checked,
            rows_checked=rows_checked,
            head_seq=head_seq,
            head_hash=head_hash,
        )
    first = problems[0]
    first_seq = int(first.seq) if first.seq != _NEVER and first.seq > 0 else None
    return VerifyResult(
        ok=False,
        checked=checked,
        rows_checked=rows_checked,
        head_seq=head_seq,
        head_hash=head_hash,
        first_bad_seq=first_seq,
        first_bad=stored.get(first_seq) if first_seq is not None else None,
        problem=first.text,
        problems=tuple(p.text for p in problems[:_MAX_PROBLEMS]),
    )


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class _TableState:
    """The rows a table should hold after replaying the log, with the event that wrote each.

    Rows are grouped by the first primary-key column, so that the deletes the ledger makes
    (all rows of one run) touch one group instead of the whole table.
    """

    def __init__(self, table: Table) -> None:
        self.pk = primary_key(table)
        self.groups: dict[Any, dict[tuple[Any, ...], tuple[dict[str, Any], int]]] = {}

    def put(self, row: dict[str, Any], seq: int) -> None:
        key = tuple(row.get(k) for k in self.pk)
        self.groups.setdefault(key[0], {})[key] = (row, seq)

    def delete(self, match: dict[str, Any]) -> None:
        first = self.pk[0]
        groups = [self.groups.get(match[first], {})] if first in match else self.groups.values()
        for group in groups:
            doomed = [
                k for k, (r, _) in group.items() if all(r.get(c) == v for c, v in match.items())
            ]
            for key in doomed:
                del group[key]

    def get(self, key: tuple[Any, ...]) -> tuple[dict[str, Any], int] | None:
        return self.groups.get(key[0], {}).get(key)

    def items(self) -> Iterator[tuple[tuple[Any, ...], tuple[dict[str, Any], int]]]:
        for group in self.groups.values():
            yield from group.items()


def _replay(
    state: dict[str, _TableState], payload: dict[str, Any], seq: int, problems: list[_Problem]
) -> None:
    changes = payload.get("changes")
    if not isinstance(changes, list):
        problems.append(_Problem(seq, f"event #{seq} has no list of changes"))
        return
    for op in changes:
        table = CHAINED_TABLES.get(op.get("table", "")) if isinstance(op, dict) else None
        if table is None or not isinstance(op, dict):
            problems.append(_Problem(seq, f"event #{seq} changes an unknown table: {op!r:.80}"))
            continue
        if op.get("op") == "put" and isinstance(op.get("row"), dict):
            state[table.name].put(op["row"], seq)
        elif op.get("op") == "delete" and isinstance(op.get("match"), dict) and op["match"]:
            state[table.name].delete(op["match"])
        else:
            problems.append(_Problem(seq, f"event #{seq} has a malformed change: {op!r:.80}"))


def _compare_tables(
    conn: Connection, state: dict[str, _TableState], problems: list[_Problem]
) -> int:
    checked = 0
    for name, table in CHAINED_TABLES.items():
        pk = primary_key(table)
        expected = state[name]
        seen: set[tuple[Any, ...]] = set()
        for actual in conn.execute(select(table)).mappings():
            checked += 1
            key = tuple(actual[k] for k in pk)
            seen.add(key)
            label = f"{name} row " + ", ".join(f"{k}={v!r}" for k, v in zip(pk, key, strict=True))
            found = expected.get(key)
            if found is None:
                problems.append(
                    _Problem(_NEVER, f"{label} was added outside datasteward (no event wrote it)")
                )
                continue
            row, seq = found
            diffs = [c.name for c in table.columns if not _same(actual[c.name], row.get(c.name))]
            if diffs:
                col = diffs[0]
                problems.append(
                    _Problem(
                        seq,
                        f"{label} was changed outside datasteward: {col} is "
                        f"{_clip(actual[col])} but event #{seq} recorded {_clip(row.get(col))}"
                        + (f" (and {len(diffs) - 1} more column(s))" if len(diffs) > 1 else ""),
                    )
                )
        for key, (_, seq) in expected.items():
            if key not in seen:
                label = ", ".join(f"{k}={v!r}" for k, v in zip(pk, key, strict=True))
                problems.append(
                    _Problem(
                        seq,
                        f"{name} row {label} written by event #{seq} "
                        "was deleted outside datasteward",
                    )
                )
    return checked


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    return bool(a == b)


def _clip(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
