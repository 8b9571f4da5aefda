"""The crawl's frontier and progress, in SQLite (SQLAlchemy) under the project:
``collect/<name>/frontier.sqlite``.

It survives a crash at any moment (``kill -9``) because of the order of writes:

1. a page's WARC records are appended to the open part, flushed and fsynced;
2. then ONE transaction marks the URL done, records the part's new committed size and adds
   the links found on the page.

On resume, every WARC part is cut back to its committed size (a half-written record of a page
that was never marked done disappears), so a page is in the WARC exactly once, and a URL
marked done is never fetched again. Site policies (robots.txt & co.) are stored here too, so
a resumed crawl does not ask for them again within their 24 hours.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

FRONTIER_FILE = "frontier.sqlite"

_meta = sa.MetaData()
urls_t = sa.Table(
    "urls",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("host", sa.Text, nullable=False, index=True),
    sa.Column("depth", sa.Integer, nullable=False, default=0),
    sa.Column("parent", sa.Text),
    #: pending | done | failed | skipped
    sa.Column("state", sa.Text, nullable=False, default="pending", index=True),
    sa.Column("decision", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("signals", sa.Text),
    sa.Column("warc", sa.Text),
    sa.Column("bytes", sa.Integer),
    sa.Column("updated", sa.Float),
)
sites_t = sa.Table(
    "sites",
    _meta,
    sa.Column("origin", sa.Text, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
)
parts_t = sa.Table(
    "warc_parts",
    _meta,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
)
meta_t = sa.Table(
    "meta",
    _meta,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class Pending:
    id: int
    url: str
    host: str
    depth: int


@dataclass(frozen=True)
class Done:
    """What a finished URL leaves in the frontier (one transaction)."""

    url: str
    state: str  # done | failed | skipped
    decision: str
    error: str | None = None
    detail: str | None = None
    signals: dict[str, Any] | None = None
    warc: str | None = None
    bytes: int = 0
    #: The WARC part and its size after this URL's records (None: nothing written).
    part_size: tuple[str, int] | None = None
    #: (url, host, depth) found on the page, added if new and within ``room``.
    links: tuple[tuple[str, str, int], ...] = ()
    #: Also mark these (e.g. the final URL of a redirect) done, so they are not fetched.
    also_done: tuple[str, ...] = ()


class Frontier:
    """URLs to fetch and what became of them."""

    def __init__(self, folder: str | Path, *, per_host: int | None = None) -> None:
        #: At most this many URLs of one host are taken in (``max_pages_per_host``).
        self.per_host = per_host
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / FRONTIER_FILE
        self.engine = sa.create_engine(f"sqlite:///{self.path}")

        @sa.event.listens_for(self.engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # a killed writer loses nothing committed
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        _meta.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Frontier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- meta ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(meta_t.c.value).where(meta_t.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.delete(meta_t).where(meta_t.c.key == key))
            c.execute(sa.insert(meta_t).values(key=key, value=value))

    # ---- URLs ----------------------------------------------------------------------------
    def count(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(urls_t)).scalar() or 0)

    def add(
        self, rows: Iterable[tuple[str, str, int]], *, room: int, parent: str | None = None
    ) -> int:
        """Add (url, host, depth) rows not yet known, at most ``room`` of them; the number
        added."""
        with self.engine.begin() as c:
            return _add(c, rows, room, parent, self.per_host)

    def pending(self, limit: int, *, after: int = 0) -> list[Pending]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(urls_t.c.id, urls_t.c.url, urls_t.c.host, urls_t.c.depth)
                .where(urls_t.c.state == "pending", urls_t.c.id > after)
                .order_by(urls_t.c.id)
                .limit(limit)
            ).all()
        return [Pending(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def finish(self, done: Done, *, room: int) -> int:
        """Record one finished URL (and its links) in one transaction; links added."""
        return self.finish_many([done], room=room)

    def finish_many(self, dones: list[Done], *, room: int) -> int:
        """Record finished URLs (and their links) in ONE transaction; links added."""
        with self.engine.begin() as c:
            return sum(_finish(c, done, room, self.per_host) for done in dones)

    def is_known(self, url: str) -> str | None:
        """The state of ``url`` (None if unknown)."""
        with self.engine.connect() as c:
            return c.execute(sa.select(urls_t.c.state).where(urls_t.c.url == url)).scalar()

    def states(self) -> Counter[str]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(urls_t.c.state, sa.func.count()).group_by(urls_t.c.state)
            ).all()
        return Counter({str(s): int(n) for s, n in rows})

    def by_kind(self) -> Counter[str]:
        """Finished URLs by decision or error kind (``error:timeout``, ``robots_refused``)."""
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(urls_t.c.decision, urls_t.c.error, sa.func.count())
                .where(urls_t.c.state != "pending")
                .group_by(urls_t.c.decision, urls_t.c.error)
            ).all()
        out: Counter[str] = Counter()
        for decision, error, n in rows:
            out[f"error:{error}" if error else str(decision)] += int(n)
        return out

    def hosts(self) -> list[str]:
        """Every host the frontier knows (a resumed crawl holds each for one delay)."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(urls_t.c.host).distinct()).all()
        return [str(r[0]) for r in rows if r[0]]

    def rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(sa.select(urls_t).order_by(urls_t.c.id))]

    # ---- WARC parts ----------------------------------------------------------------------
    def parts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            return {str(n): int(s) for n, s in c.execute(sa.select(parts_t.c.name, parts_t.c.size))}

    def set_part(self, name: str, size: int) -> None:
        with self.engine.begin() as c:
            c.execute(sa.delete(parts_t).where(parts_t.c.name == name))
            c.execute(sa.insert(parts_t).values(name=name, size=size))

    # ---- site policies (robots.RobotsCache's PolicyStore) ---------------------------------
    def load_site(self, origin: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            raw = c.execute(sa.select(sites_t.c.data).where(sites_t.c.origin == origin)).scalar()
        return json.loads(raw) if raw else None

    def save_site(self, origin: str, data: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(sa.delete(sites_t).where(sites_t.c.origin == origin))
            c.execute(sa.insert(sites_t).values(origin=origin, data=json.dumps(data)))


def _add(
    c: Any,
    rows: Iterable[tuple[str, str, int]],
    room: int,
    parent: str | None,
    per_host: int | None = None,
) -> int:
    if room <= 0:
        return 0
    total = int(c.execute(sa.select(sa.func.count()).select_from(urls_t)).scalar() or 0)
    added = 0
    hosts: dict[str, int] = {}
    for url, host, depth in rows:
        if total + added >= room:
            break
        if per_host is not None:
            if host not in hosts:
                hosts[host] = int(
                    c.execute(
                        sa.select(sa.func.count()).select_from(urls_t).where(urls_t.c.host == host)
                    ).scalar()
                    or 0
                )
            if hosts[host] >= per_host:
                continue
        res = c.execute(
            sa.insert(urls_t)
            .prefix_with("OR IGNORE")
            .values(url=url, host=host, depth=depth, parent=parent, state="pending")
        )
        n = res.rowcount or 0
        added += n
        if per_host is not None:
            hosts[host] += n
    return added


def _finish(c: Any, done: Done, room: int, per_host: int | None) -> int:
    now = time.time()
    c.execute(
        sa.update(urls_t)
        .where(urls_t.c.url == done.url)
        .values(
            state=done.state,
            decision=done.decision,
            error=done.error,
            detail=done.detail,
            signals=json.dumps(done.signals) if done.signals else None,
            warc=done.warc,
            bytes=done.bytes,
            updated=now,
        )
    )
    for other in done.also_done:
        c.execute(
            sa.update(urls_t)
            .where(urls_t.c.url == other, urls_t.c.state == "pending")
            .values(state="skipped", decision="same_as_redirect", detail=done.url, updated=now)
        )
    if done.part_size is not None:
        name, size = done.part_size
        c.execute(sa.delete(parts_t).where(parts_t.c.name == name))
        c.execute(sa.insert(parts_t).values(name=name, size=size))
    return _add(c, done.links, room, done.url, per_host) if done.links else 0
