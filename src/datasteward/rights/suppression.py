"""The suppression list: ids, URLs, domains and content hashes that must never enter the dataset.

Stored append-only in ``<project>/.datasteward/suppression.jsonl``, one entry per line with who
added it, why and when. The executor calls :meth:`SuppressionList.match` on every batch at
ingest and traces the matches as removals with reason ``suppressed``.

Matching:

* ``id`` — the record id exactly (``source:value``);
* ``sha256`` — the record's ``content_sha256`` (hex, case-insensitive) or its
  ``source_content_sha256`` (the hash at ingest, before a step such as PII redaction edited
  the text);
* ``url`` — the record's ``source_uri`` after normalisation (the rule of
  :mod:`datasteward.records.urls`): scheme dropped (``http`` and ``https`` are the same page),
  host lower-cased without a trailing dot, default port dropped, fragment dropped, an empty
  path is ``/``; the path and query are kept as they are;
* ``domain`` — the host of ``source_uri`` is the domain or one of its subdomains
  (``example.com`` suppresses ``www.example.com`` and ``a.b.example.com``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import DatastewardError
from datasteward.records.schema import CONTENT_SHA256, ID, SOURCE_CONTENT_SHA256, SOURCE_URI
from datasteward.records.urls import KEY_KINDS, normalize_key, normalize_url, url_host

SUPPRESSION_FILE = Path(".datasteward") / "suppression.jsonl"
KINDS = KEY_KINDS


@dataclass(frozen=True)
class Entry:
    kind: str
    value: str
    reason: str
    by: str
    at: str

    def describe(self) -> str:
        return f"suppressed {self.kind} {self.value}: {self.reason} (by {self.by}, {self.at})"


def normalize_value(kind: str, value: str) -> str:
    """The stored form of a value; raises with a clear message if it cannot be one."""
    return normalize_key(kind, value)


class SuppressionList:
    """The project's suppression list, loaded in memory for matching."""

    def __init__(self, entries: list[Entry], path: Path | None = None) -> None:
        self.path = path
        self.entries = entries
        self._by_kind: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}
        for e in entries:
            self._by_kind[e.kind].setdefault(e.value, e)  # the first entry explains

    # ---- storage --------------------------------------------------------------------------
    @staticmethod
    def file(project_dir: str | Path) -> Path:
        return Path(project_dir) / SUPPRESSION_FILE

    @classmethod
    def load(cls, project_dir: str | Path) -> SuppressionList:
        """The project's list (empty if there is no file)."""
        path = cls.file(project_dir)
        entries: list[Entry] = []
        if path.exists():
            for lineno, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    entries.append(
                        Entry(**{k: str(data[k]) for k in ("kind", "value", "reason", "by", "at")})
                    )
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise DatastewardError(
                        f"{path}:{lineno}: not a suppression entry ({exc})",
                        hint="the file is append-only JSON lines; restore the line from a backup",
                    ) from None
        return cls(entries, path)

    @classmethod
    def add(cls, project_dir: str | Path, *, kind: str, value: str, reason: str, by: str) -> Entry:
        """Append one entry (under an exclusive lock) and return it."""
        if not reason.strip() or not by.strip():
            raise DatastewardError(
                "a suppression needs a reason and who asked for it", hint="pass --reason and --by"
            )
        entry = Entry(
            kind=kind,
            value=normalize_value(kind, value),
            reason=reason.strip(),
            by=by.strip(),
            at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        )
        path = cls.file(project_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
                fh.flush()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return entry

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    # ---- matching -------------------------------------------------------------------------
    def _domain_entry(self, host: str) -> Entry | None:
        domains = self._by_kind["domain"]
        labels = host.split(".")
        for i in range(len(labels)):
            hit = domains.get(".".join(labels[i:]))
            if hit is not None:
                return hit
        return None

    def match(self, batch: pa.RecordBatch) -> tuple[np.ndarray, list[str | None]]:
        """(mask of suppressed rows, why per row) for a batch with the provenance columns."""
        n = batch.num_rows
        mask = np.zeros(n, dtype=bool)
        detail: list[str | None] = [None] * n
        if n == 0 or not self.entries:
            return mask, detail

        def exact(column: str, kind: str, *, lower: bool = False) -> None:
            table = self._by_kind[kind]
            if not table or batch.schema.get_field_index(column) < 0:
                return
            values = batch.column(column)
            if lower:
                values = pc.utf8_lower(values)
            hits = pc.fill_null(
                pc.is_in(values, value_set=pa.array(list(table), pa.string())), False
            )
            for i in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
                if not mask[i]:
                    mask[i] = True
                    detail[i] = table[values[i].as_py()].describe()

        exact(ID, "id")
        exact(CONTENT_SHA256, "sha256", lower=True)
        exact(SOURCE_CONTENT_SHA256, "sha256", lower=True)  # the hash at ingest
        if (self._by_kind["url"] or self._by_kind["domain"]) and batch.schema.get_field_index(
            SOURCE_URI
        ) >= 0:
            encoded = pc.dictionary_encode(batch.column(SOURCE_URI))
            dictionary = encoded.dictionary.to_pylist()
            verdicts: list[Entry | None] = []
            for uri in dictionary:
                entry = None
                key = normalize_url(uri) if uri else None
                if key is not None:
                    entry = self._by_kind["url"].get(key)
                    if entry is None and self._by_kind["domain"]:
                        entry = self._domain_entry(url_host(uri) or "")
                verdicts.append(entry)
            indices = encoded.indices.to_numpy(zero_copy_only=False)
            valid = ~np.asarray(pc.is_null(encoded.indices).to_numpy(zero_copy_only=False))
            for i in np.flatnonzero(valid):
                entry = verdicts[int(indices[i])]
                if entry is not None and not mask[i]:
                    mask[i] = True
                    detail[i] = entry.describe()
        return mask, detail
