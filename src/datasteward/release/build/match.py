"""Finding the records a takedown request names, in every release and in a run.

Releases are matched through their index (``index/records.parquet``: id, normalised URL,
host, content sha256), read by one DuckDB query over all releases, so a URL is found among
millions of records by reading a few columns. ``text`` requests (a name, an e-mail address)
have no index: they scan the ``text`` column, case-insensitively.

Matching rules are the suppression list's (datasteward.rights.suppression): ``url`` compares
normalised URLs, ``domain`` matches the host and its subdomains, ``sha256`` the content hash,
``id`` the record id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasteward.errors import ReleaseError
from datasteward.records.schema import CONTENT_SHA256, ID, SOURCE_CONTENT_SHA256, SOURCE_URI
from datasteward.records.urls import normalize_key
from datasteward.release.build.shards import INDEX_FILE
from datasteward.runs.layout import RunLayout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    takedown_id: int
    kind: str  # url | domain | sha256 | id | text
    value: str

    @property
    def key(self) -> str:
        """The value as matched (normalised like the suppression list; text lower-cased)."""
        return normalized(self.kind, self.value)


def normalized(kind: str, value: str) -> str:
    if kind == "text":
        v = value.strip()
        if len(v) < 3:
            raise ReleaseError(
                f"text to take down must have at least 3 characters, got {value!r}",
                hint="give the name or e-mail address as it appears in the records",
            )
        return v.lower()
    return normalize_key(kind, value)


@dataclass(frozen=True)
class Match:
    where: str  # a release version, or "run:<id>"
    takedown_id: int
    id: str
    url: str | None


@dataclass
class Matches:
    items: list[Match] = field(default_factory=list)

    def ids(self, where: str) -> set[str]:
        return {m.id for m in self.items if m.where == where}

    def places(self) -> list[str]:
        return sorted({m.where for m in self.items})

    def by_request(self) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = {}
        for m in self.items:
            d = out.setdefault(m.takedown_id, {})
            d[m.where] = d.get(m.where, 0) + 1
        return out


def _con() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def _conditions(requests: Iterable[Request], *, source_hash: bool = False) -> tuple[str, list[Any]]:
    """SQL over index columns (id, url, host, content_sha256 and, with ``source_hash``,
    source_content_sha256: the hash at ingest) yielding the matching request id."""
    cases: list[str] = []
    params: list[Any] = []
    for r in requests:
        if r.kind == "url":
            cases.append("WHEN url = ? THEN ?")
            params += [r.key, r.takedown_id]
        elif r.kind == "domain":
            cases.append("WHEN host = ? OR ends_with(host, ?) THEN ?")
            params += [r.key, "." + r.key, r.takedown_id]
        elif r.kind == "sha256":
            if source_hash:
                cases.append("WHEN content_sha256 = ? OR source_content_sha256 = ? THEN ?")
                params += [r.key, r.key, r.takedown_id]
            else:
                cases.append("WHEN content_sha256 = ? THEN ?")
                params += [r.key, r.takedown_id]
        elif r.kind == "id":
            cases.append("WHEN id = ? THEN ?")
            params += [r.key, r.takedown_id]
    return ("CASE " + " ".join(cases) + " END") if cases else "NULL", params


def match_releases(releases: dict[str, Path], requests: list[Request]) -> Matches:
    """Records of the given releases ({version: dir}) that the requests name."""
    out = Matches()
    if not releases or not requests:
        return out
    indexed = [r for r in requests if r.kind != "text"]
    texts = [r for r in requests if r.kind == "text"]
    con = _con()
    try:
        if indexed:
            files = {str(d / INDEX_FILE): v for v, d in releases.items()}
            import pyarrow.parquet as pq

            # indexes of releases made before source_content_sha256 lack it (NULL by name)
            source_hash = any(SOURCE_CONTENT_SHA256 in pq.read_schema(f).names for f in files)
            case, params = _conditions(indexed, source_hash=source_hash)
            rows = con.execute(
                f"SELECT filename, id, url, tid FROM (SELECT filename, id, url, {case} AS tid "
                "FROM read_parquet(?, filename = true, union_by_name = true)) "
                "WHERE tid IS NOT NULL ORDER BY filename, id",
                [*params, list(files)],
            ).fetchall()
            out.items += [Match(files[f], int(t), str(i), u) for f, i, u, t in rows]
        with_text = {v: d for v, d in releases.items() if _has_text(d)}
        for r in texts:
            for v, d in with_text.items():
                out.items += [
                    Match(v, r.takedown_id, i, u)
                    for i, u in _text_rows(con, str(d / "data" / "*.parquet"), r.key)
                ]
    finally:
        con.close()
    return out


def _has_text(release_dir: Path) -> bool:
    """Whether a release holds text (a links-only release does not: ``text`` requests cannot
    match it; its records are taken down by URL, domain, sha256 or id)."""
    from datasteward.release.format.manifest import read_manifest

    links_only = read_manifest(release_dir).links_only
    if links_only:
        log.info("%s is links-only: text requests are not matched against it", release_dir.name)
    return not links_only


def _text_rows(con: Any, glob: str, needle: str) -> list[tuple[str, str | None]]:
    rows = con.execute(
        "SELECT id, source_uri FROM read_parquet(?, union_by_name = true) "
        "WHERE contains(lower(text), ?) ORDER BY id",
        [glob, needle],
    ).fetchall()
    return [(str(i), u) for i, u in rows]


def match_run(run_dir: Path, requests: list[Request]) -> Matches:
    """Kept records of a run that the requests name (no index: the suppression list's matcher)."""
    import pyarrow.dataset as pads

    from datasteward.rights.suppression import Entry, SuppressionList

    out = Matches()
    layout = RunLayout(run_dir)
    data = layout.parquet(layout.data)
    if not data or not requests:
        return out
    where = f"run:{run_dir.name}"
    entries = {(r.kind, r.key): r.takedown_id for r in requests if r.kind != "text"}
    if entries:
        sl = SuppressionList([Entry(k, v, str(t), "takedown", "") for (k, v), t in entries.items()])
        dataset = pads.dataset([str(p) for p in data], format="parquet")
        wanted = (ID, SOURCE_URI, CONTENT_SHA256, SOURCE_CONTENT_SHA256)
        cols = [c for c in wanted if c in dataset.schema.names]
        for batch in dataset.to_batches(columns=cols):
            mask, detail = sl.match(batch)
            ids = batch.column(ID).to_pylist()
            uris = batch.column(SOURCE_URI).to_pylist() if SOURCE_URI in cols else [None] * len(ids)
            for i in mask.nonzero()[0]:
                why = detail[i] or ""
                tid = next((t for (k, v), t in entries.items() if f"suppressed {k} {v}:" in why), 0)
                out.items.append(Match(where, tid, ids[i], uris[i]))
    texts = [r for r in requests if r.kind == "text"]
    if texts:
        con = _con()
        try:
            for r in texts:
                out.items += [
                    Match(where, r.takedown_id, i, u)
                    for i, u in _text_rows(con, layout.data_glob, r.key)
                ]
        finally:
            con.close()
    return out
