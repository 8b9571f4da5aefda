"""WebDataset tar shards (``.tar``, ``.tar.gz``): one record per sample, the caption as text.

A WebDataset sample is the run of consecutive tar members that share a key (the member name up
to the first dot of its file name): ``000120007.jpg``, ``000120007.txt``,
``000120007.json``. ``datasteward collect images`` writes such shards; so do img2dataset and
most image-text pipelines.

* ``text`` is the ``.txt`` member (``text_ext`` option), UTF-8; a sample without one has the
  JSON's ``caption`` (or an empty text).
* The ``.json`` member's fields are the record's input fields, so ``[[sources]]`` maps them as
  for JSONL: by default ``id_field = "key"``, ``url_field = "url"`` and
  ``date_field = "retrieved_at"`` (what collect and img2dataset write); ``license_field`` and
  the others may name any JSON field (dotted paths reach nested ones). The unmapped fields are
  the record's ``metadata`` (signals, HTTP status, headers, the redirect chain, the measures).
* The image is referenced, not copied into the record: ``metadata["image"]`` gets ``member``
  (its name in the tar), ``offset`` and ``size`` (its bytes in the tar file, for a seek) next
  to the measures collect wrote, and ``metadata["payload_sha256"]`` is the sha256 of the image
  as the server sent it when the JSON has it, so a links-only release can check a re-fetched
  image byte for byte (:mod:`datasteward.release.consumer.fetch_links`). The caption stays in
  ``metadata["caption"]`` with ``extractor = "caption"``: a links-only release publishes the
  URL and the caption (LAION's model), and ``datasteward fetch`` gives the text back.
* Bad input: a member that is not UTF-8 (text) or JSON (json) quarantines its sample; a tar
  that is truncated or corrupt is quarantined from the offset where it breaks, and the samples
  before it are kept.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import bad, parse_options
from datasteward.sources._fields import FieldMap, UnusableRecord
from datasteward.sources._io import open_raw
from datasteward.sources.base import OnBad, Reader, RecordBuilder, Shard


@dataclass(frozen=True)
class WebDatasetOptions:
    """Options of the ``webdataset`` format (``[sources.options]``)."""

    #: The extension of the member that holds the text (the caption).
    text_ext: str = "txt"
    #: The extension of the member that holds the sample's JSON.
    json_ext: str = "json"
    #: Extensions of the image member (the first present is referenced).
    image_exts: tuple[str, ...] = ("jpg", "jpeg", "png", "webp")
    #: Members larger than this (text or JSON) quarantine their sample unread.
    max_member_bytes: int = 16 << 20


_DEFAULT_FIELDS = {"id_field": "key", "url_field": "url", "date_field": "retrieved_at"}


@dataclass
class _Member:
    name: str
    ext: str
    offset: int
    size: int
    data: bytes | None


def split_name(name: str) -> tuple[str, str]:
    """WebDataset's key and extension of a member: ``a/001.seg.png`` is ``a/001``, ``seg.png``."""
    folder, base = posixpath.split(name)
    key, _, ext = base.partition(".")
    return (posixpath.join(folder, key) if folder else key), ext.lower()


class WebDatasetReader(Reader):
    format = "webdataset"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        config = replace(
            config,
            id_field=config.id_field or _DEFAULT_FIELDS["id_field"],
            url_field=config.url_field or _DEFAULT_FIELDS["url_field"],
            date_field=config.date_field or _DEFAULT_FIELDS["date_field"],
        )
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, WebDatasetOptions)

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        builder = RecordBuilder(self.config, shard)
        cols = FieldMap.of(self.config).columns(builder)
        n = 0
        with open_raw(shard.uri) as fh:
            for key, members in self._samples(fh, shard, on_bad):
                record = self._record(key, members, shard, on_bad)
                if record is None:
                    continue
                try:
                    cols.add(record, key)
                except UnusableRecord as exc:
                    on_bad(bad(self.config, shard.location, f"sample {key}", str(exc)))
                    continue
                n += 1
                if (out := cols.batch(batch_size)) is not None:
                    yield out
        if (out := cols.batch()) is not None:
            yield out

    def _samples(
        self, fh: IO[bytes], shard: Shard, on_bad: OnBad
    ) -> Iterator[tuple[str, list[_Member]]]:
        o = self.options
        wanted = {o.text_ext, o.json_ext}
        key: str | None = None
        members: list[_Member] = []
        offset = 0
        try:
            with tarfile.open(fileobj=fh, mode="r|*") as tar:
                for info in tar:
                    offset = info.offset
                    if not info.isfile():
                        continue
                    k, ext = split_name(info.name)
                    if k != key:
                        if key is not None:
                            yield key, members
                        key, members = k, []
                    data = None
                    if ext in wanted and info.size <= o.max_member_bytes:
                        extracted = tar.extractfile(info)
                        data = extracted.read() if extracted is not None else b""
                    members.append(_Member(info.name, ext, info.offset_data, info.size, data))
        except (tarfile.TarError, OSError, EOFError) as exc:
            # the samples before the break are kept; the one being read is lost with the rest
            on_bad(
                bad(
                    self.config,
                    shard.location,
                    f"offset {offset}",
                    f"the tar file is truncated or corrupt here ({exc}); the samples "
                    "before this offset were read",
                )
            )
            return
        if key is not None:
            yield key, members

    def _record(
        self, key: str, members: list[_Member], shard: Shard, on_bad: OnBad
    ) -> dict[str, Any] | None:
        o = self.options
        by_ext = {m.ext: m for m in members}
        record: dict[str, Any] = {}
        js = by_ext.get(o.json_ext)
        if js is not None:
            if js.data is None:
                on_bad(
                    bad(
                        self.config,
                        shard.location,
                        f"sample {key}",
                        f"{js.name} is {js.size} bytes, over max_member_bytes "
                        f"({o.max_member_bytes})",
                    )
                )
                return None
            try:
                parsed = json.loads(js.data)
            except (ValueError, UnicodeDecodeError) as exc:
                on_bad(
                    bad(
                        self.config,
                        shard.location,
                        f"sample {key}",
                        f"{js.name} is not JSON: {exc}",
                        js.data,
                    )
                )
                return None
            if not isinstance(parsed, dict):
                on_bad(
                    bad(
                        self.config,
                        shard.location,
                        f"sample {key}",
                        f"{js.name} is not a JSON object",
                        js.data,
                    )
                )
                return None
            record = parsed
        record.setdefault("key", key)
        txt = by_ext.get(o.text_ext)
        text_field = self.config.text_field
        if txt is not None:
            if txt.data is None:
                on_bad(
                    bad(
                        self.config,
                        shard.location,
                        f"sample {key}",
                        f"{txt.name} is {txt.size} bytes, over max_member_bytes "
                        f"({o.max_member_bytes})",
                    )
                )
                return None
            try:
                record[text_field] = txt.data.decode("utf-8")
            except UnicodeDecodeError as exc:
                on_bad(
                    bad(
                        self.config,
                        shard.location,
                        f"sample {key}",
                        f"{txt.name} is not UTF-8 (byte {exc.start})",
                        txt.data,
                    )
                )
                return None
        elif text_field not in record:
            caption = record.get("caption")
            record[text_field] = caption if isinstance(caption, str) else ""
        image = next((by_ext[e] for e in o.image_exts if e in by_ext), None)
        if image is not None:
            info = record.get("image")
            ref = dict(info) if isinstance(info, dict) else {}
            ref.update(member=image.name, offset=image.offset, size=image.size)
            record["image"] = ref
            sha = ref.get("sha256")
            if isinstance(sha, str) and "payload_sha256" not in record:
                record["payload_sha256"] = sha
            # a links-only release keeps the caption (metadata) and drops the text column;
            # `datasteward fetch` checks the image by payload_sha256 and restores the text
            record.setdefault("caption", record[text_field])
            record.setdefault("extractor", "caption")
        return record
