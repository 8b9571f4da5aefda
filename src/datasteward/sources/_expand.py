"""Expanding the recipe's source paths (globs, fsspec URLs) into shards."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from datasteward.errors import SourceError
from datasteward.recipe.model import Recipe, SourceConfig
from datasteward.sources._io import is_url
from datasteward.sources.base import Shard

_GLOB_CHARS = ("*", "?", "[")


def _has_glob(pattern: str) -> bool:
    return any(c in pattern for c in _GLOB_CHARS)


def _relative_to(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.as_posix()


def _local_files(pattern: str, recipe_dir: Path) -> list[tuple[str, str]]:
    """(absolute path, location) of the files a local pattern names."""
    full = Path(pattern).expanduser()
    if not full.is_absolute():
        full = recipe_dir / full
    if _has_glob(str(full)):
        matches = [Path(p) for p in glob.glob(str(full), recursive=True)]
    else:
        matches = [full] if full.exists() else []
    out = []
    for m in sorted(matches):
        if m.is_file() or m.is_dir():
            out.append((str(m.resolve()), _relative_to(m.resolve(), recipe_dir.resolve())))
    return out


def _resolve_chain(url: str, recipe_dir: Path) -> str:
    """Make the local tail of a chained URL (``zip://a.csv::data/x.zip``) absolute."""
    if "::" not in url:
        return url
    *head, tail = url.split("::")
    if "://" in tail:
        if tail.startswith("file://"):
            tail_path = Path(tail[len("file://") :])
            if not tail_path.is_absolute():
                tail = "file://" + str((recipe_dir / tail_path).resolve())
        return "::".join([*head, tail])
    tail_path = Path(tail).expanduser()
    if not tail_path.is_absolute():
        tail_path = (recipe_dir / tail_path).resolve()
    return "::".join([*head, str(tail_path)])


def _url_files(url: str, recipe_dir: Path) -> list[tuple[str, str]]:
    """(openable URL, location) of the files an fsspec URL names."""
    if url.startswith("file://") and "::" not in url:
        return _local_files(url[len("file://") :], recipe_dir)
    import fsspec

    resolved = _resolve_chain(url, recipe_dir)
    first, sep, rest_resolved = resolved.partition("::")
    _, _, rest_given = url.partition("::")
    protocol, _, member = first.partition("://")
    if not _has_glob(member):
        return [(resolved, url)]
    try:
        fs, _, _ = fsspec.core.get_fs_token_paths(resolved)
        found = sorted(fs.glob(member if sep else first))
    except (OSError, ValueError, ImportError) as exc:
        raise SourceError(
            f"cannot list {url}: {exc}", hint="check the URL and that its filesystem is reachable"
        ) from None
    except Exception as exc:  # noqa: BLE001 - a driver's own errors (botocore: no credentials)
        from datasteward.storage import storage_error

        raise storage_error(url, exc, what="list", cls=SourceError) from None
    out = []
    for f in found:
        f = f.lstrip("/") if sep else f
        if sep:
            out.append((f"{protocol}://{f}::{rest_resolved}", f"{protocol}://{f}::{rest_given}"))
        else:
            full = f if "://" in f else f"{protocol}://{f}"
            out.append((full, full))
    return out


def source_files(config: SourceConfig, recipe_dir: Path) -> list[tuple[str, str]]:
    """The (uri, location) pairs of one source's files, sorted; SourceError if there are none."""
    pattern = config.path
    if is_url(pattern):
        files = _url_files(pattern, recipe_dir)
    else:
        files = _local_files(pattern, recipe_dir)
    if config.format == "hf":
        from datasteward.sources.hf import arrow_files

        files = [pair for uri, loc in files for pair in arrow_files(uri, loc, config)]
    else:
        files = [(u, loc) for u, loc in files if is_url(u) or not os.path.isdir(u)]
    if not files:
        where = f" (declared at {config.where})" if config.where else ""
        raise SourceError(
            f"source `{config.name}`{where}: the path {pattern!r} matches no files "
            f"in {recipe_dir}",
            hint="paths and globs are relative to the recipe's folder; "
            "check the pattern, e.g. data/*.jsonl or data/**/*.jsonl.gz",
        )
    return files


def expand_shards(recipe: Recipe) -> list[Shard]:
    """All shards of a recipe: sources in recipe order, each source's files sorted."""
    shards: list[Shard] = []
    for config in recipe.sources:
        for uri, location in source_files(config, recipe.dir):
            shards.append(Shard(source=config.name, uri=uri, location=location, index=len(shards)))
    return shards
