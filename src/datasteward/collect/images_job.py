"""What one ``collect images`` does and did: :class:`ImagesJob` (built from a ``[[collect]]``
table of ``kind = "images"`` by :func:`job_from_config`) and :class:`ImagesSummary`."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datasteward.collect.fetch import FetchOptions
from datasteward.collect.from_recipe import fetch_options_of, politeness_of
from datasteward.collect.imaging import ImageOptions
from datasteward.collect.politeness import Politeness
from datasteward.errors import RecipeError
from datasteward.recipe.collect import CollectConfig
from datasteward.rights import optout_signals as oo

#: X-Robots-Tag / meta robots directives that opt an image out by default (img2dataset's).
IMAGE_DIRECTIVES: tuple[str, ...] = ("noai", "noimageai", "noindex", "noimageindex")
#: What the downloader asks for (a server may pick the format).
ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.9,*/*;q=0.5"


@dataclass(frozen=True, kw_only=True)
class ImagesJob:
    """Everything one ``collect images`` needs (built from a ``[[collect]]`` table)."""

    name: str
    urls: Path
    output: Path
    url_field: str = "url"
    caption_field: str | None = "caption"
    shard_size: int = 10_000
    #: Worker processes that decode and resize (the fetching runs in the main process).
    processes: int = 2
    image: ImageOptions = field(default_factory=ImageOptions)
    politeness: Politeness = field(default_factory=Politeness)
    fetch: FetchOptions = field(default_factory=FetchOptions)
    agent: str = "datasteward"
    ai_agents: tuple[str, ...] = oo.AI_AGENTS
    directives: tuple[str, ...] = IMAGE_DIRECTIVES
    #: Rows in flight at once (fetching or decoding); bounds memory.
    window: int = 256

    def settings(self) -> dict[str, Any]:
        """What a resumed download must share with the first run (else shards would differ)."""
        return {
            "urls": str(self.urls),
            "url_field": self.url_field,
            "caption_field": self.caption_field,
            "shard_size": self.shard_size,
            "image": asdict(self.image),
        }


@dataclass
class ImagesSummary:
    """What a ``collect images`` did (this run) and holds (all shards)."""

    output: Path
    shards: int
    shards_done_before: int
    rows: int
    success: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    fetched_bytes: int = 0
    requests: int = 0
    seconds: float = 0.0
    #: All finished shards (this run and before): rows, success, failures by reason.
    total_rows: int = 0
    total_success: int = 0
    total_failures: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if not isinstance(v, Counter)}
        out["output"] = str(self.output)
        out["failures"] = dict(self.failures)
        out["total_failures"] = dict(self.total_failures)
        return out


def job_from_config(cfg: CollectConfig, project_dir: str | Path) -> ImagesJob:
    """The download a ``[[collect]]`` table of ``kind = "images"`` describes."""
    where = cfg.where or "the recipe"
    if cfg.kind != "images":
        raise RecipeError(f"{where}: [[collect]] `{cfg.name}` is kind {cfg.kind!r}, not images")
    if not cfg.urls:
        raise RecipeError(
            f"{where}: [[collect]] `{cfg.name}` has no `urls`",
            hint='give the URL list: urls = "links.parquet" (Parquet, CSV, TSV or JSONL, with '
            "url_field and caption_field naming its columns)",
        )
    image = ImageOptions(
        image_size=cfg.image_size,
        resize_mode=cfg.resize_mode,
        resize_only_if_bigger=cfg.resize_only_if_bigger,
        encode_format=cfg.encode_format,
        encode_quality=cfg.encode_quality,
        max_pixels=cfg.max_pixels,
        min_image_size=cfg.min_image_size,
    )
    problems = image.problems()
    if cfg.shard_size < 1 or cfg.processes < 1:
        problems.append("shard_size and processes must be at least 1")
    if problems:
        raise RecipeError(f"{where}: [[collect]] `{cfg.name}`: " + "; ".join(problems))
    project = Path(project_dir)
    base = oo.AI_AGENTS if cfg.ai_agents is None else cfg.ai_agents
    return ImagesJob(
        name=cfg.name,
        urls=project / cfg.urls,
        output=project / (cfg.output or f"collect/{cfg.name}"),
        url_field=cfg.url_field,
        caption_field=cfg.caption_field or None,
        shard_size=cfg.shard_size,
        processes=cfg.processes,
        image=image,
        politeness=politeness_of(cfg),
        fetch=fetch_options_of(cfg, accept=ACCEPT),
        agent=cfg.user_agent,
        ai_agents=tuple(dict.fromkeys((*base, *cfg.extra_ai_agents))),
        directives=tuple(dict.fromkeys((*cfg.directives, *IMAGE_DIRECTIVES))),
        window=max(64, 4 * cfg.concurrency),
    )
