"""Hugging Face datasets saved with ``save_to_disk``, read from their Arrow files directly.

``path`` names the saved folder (a ``Dataset`` with ``state.json``, or a ``DatasetDict`` with
``dataset_dict.json`` and one folder per split). Each Arrow file is a shard, streamed batch by
batch with pyarrow, so the ``datasets`` package is not needed. Only local folders are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from datasteward.errors import SourceError
from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import bad, parse_options
from datasteward.sources._fields import FieldMap
from datasteward.sources._io import is_url, open_raw
from datasteward.sources.base import OnBad, Reader, Shard
from datasteward.sources.parquet import table_rows


@dataclass(frozen=True)
class HfOptions:
    """Options of the ``hf`` format."""

    #: Splits of a DatasetDict to read (default: all, in the order the dict lists them).
    splits: tuple[str, ...] = ()


def _dataset_files(folder: Path, config: SourceConfig) -> list[Path]:
    state = folder / "state.json"
    if not state.exists():
        where = f" (declared at {config.where})" if config.where else ""
        raise SourceError(
            f"source `{config.name}`{where}: {folder} is not a dataset saved with "
            "save_to_disk (no state.json or dataset_dict.json)",
            hint="point `path` at the folder that save_to_disk wrote",
        )
    try:
        files = json.loads(state.read_text())["_data_files"]
        return [folder / f["filename"] for f in files]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{state} is not a datasets state file: {exc}") from None


def arrow_files(uri: str, location: str, config: SourceConfig) -> list[tuple[str, str]]:
    """The Arrow files (uri, location) of one saved dataset folder, in order."""
    if is_url(uri):
        raise SourceError(f"source `{config.name}`: hf datasets are read from local folders, "
                          f"not {uri}", hint="download the folder first")
    folder = Path(uri)
    splits = tuple(config.options.get("splits", ()))
    dict_file = folder / "dataset_dict.json"
    if dict_file.exists():
        try:
            names = list(json.loads(dict_file.read_text())["splits"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{dict_file} is not a DatasetDict file: {exc}") from None
        unknown = [s for s in splits if s not in names]
        if unknown:
            raise SourceError(f"source `{config.name}`: no split {unknown[0]!r} in {location}",
                              hint="its splits are: " + ", ".join(names))
        folders = [folder / s for s in names if not splits or s in splits]
    else:
        folders = [folder]
    out = []
    for f in folders:
        for path in _dataset_files(f, config):
            rel = path.relative_to(folder).as_posix()
            out.append((str(path), f"{location.rstrip('/')}/{rel}"))
    return out


class HfReader(Reader):
    format = "hf"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, HfOptions)

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        with open_raw(shard.uri) as fh:
            try:
                stream = pa.ipc.open_stream(fh)
            except (pa.ArrowException, OSError) as exc:
                on_bad(bad(self.config, shard.location, "offset 0",
                           f"not a readable Arrow stream: {exc}"))
                return
            FieldMap.of(self.config).check_columns(stream.schema.names, file=shard.location,
                                                   config=self.config)
            yield from table_rows(self.config, shard, self._batches(stream, shard, on_bad),
                                  batch_size=batch_size, on_bad=on_bad)

    def _batches(
        self, stream: pa.ipc.RecordBatchStreamReader, shard: Shard, on_bad: OnBad
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        pos = 1
        while True:
            try:
                batch = stream.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                on_bad(bad(self.config, shard.location, f"row {pos}",
                           f"cannot read the Arrow data from here on: {exc}"))
                return
            yield pos, batch
            pos += batch.num_rows
