"""``README.md``: a Hugging Face dataset card whose YAML uses only values the Hub accepts.

Where the accepted values come from (checked offline by tests/release/test_documents.py):

* ``license`` — the licence identifiers listed in the Hub documentation, "Licenses"
  (huggingface.co/docs/hub/repositories-licenses), copied into :data:`HUB_LICENSES`;
* ``size_categories``, ``language``, ``language_creators``, ``multilinguality`` — the lists
  the ``datasets`` package ships in ``datasets/utils/resources/`` (size_categories.json,
  languages.json, creators.json, multilingualities.json);
* ``task_categories`` — the Hub's task types (``PIPELINE_DATA`` of huggingface.js,
  packages/tasks/src/pipelines.ts), copied into :data:`HUB_TASK_CATEGORIES`;
* ``configs`` — the Hub's documented ``data_files`` form: one config, marked ``default``,
  named after the dataset and version (:func:`config_name`). ``datasets`` keys its cache by
  directory name and config name, so two projects' ``releases/1.0.0`` with a shared name
  ``default`` read each other's rows from one cache.

Licences: one licence is the Hub id; several known ones are a list (the Hub accepts a list);
a licence without a Hub id is ``other`` with ``license_name``/``license_link``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from datasteward.errors import ReleaseError
from datasteward.release.documents.context import ReleaseContext
from datasteward.text_safety import md_prose, md_text

#: Licence ids the Hub accepts in a card's ``license`` field (Hub docs, "Licenses").
HUB_LICENSES: frozenset[str] = frozenset(
    """apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause
    bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0
    cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0
    cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0
    cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
    eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research
    intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0
    postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3
    llama3.1 llama3.2 llama3.3 gemma unknown other""".split()
)

#: Task categories the Hub accepts (huggingface.js ``PIPELINE_DATA``).
HUB_TASK_CATEGORIES: frozenset[str] = frozenset(
    """text-classification token-classification table-question-answering question-answering
    zero-shot-classification translation summarization feature-extraction text-generation
    text2text-generation fill-mask sentence-similarity text-to-speech text-to-audio
    automatic-speech-recognition audio-to-audio audio-classification audio-text-to-text
    voice-activity-detection depth-estimation image-classification object-detection
    image-segmentation text-to-image image-to-text image-to-image image-to-video
    unconditional-image-generation video-classification reinforcement-learning robotics
    tabular-classification tabular-regression tabular-to-text table-to-text multiple-choice
    text-ranking text-retrieval time-series-forecasting text-to-video image-text-to-text
    visual-question-answering document-question-answering zero-shot-image-classification
    graph-ml mask-generation zero-shot-object-detection text-to-3d image-to-3d
    image-feature-extraction video-text-to-text keypoint-detection visual-document-retrieval
    any-to-any biology other""".split()
)

#: A language the Hub accepts: an ISO 639-1/2/3 code, or one of its special values.
_HUB_LANGUAGE = re.compile(r"^(?:[a-z]{2,3}|code|multilingual)$")

#: SPDX ids whose Hub id is not simply the lower-cased SPDX id.
_SPDX_TO_HUB = {
    "ODC-By-1.0": "odc-by",
    "ODbL-1.0": "odbl",
    "PDDL-1.0": "pddl",
    "CC0-1.0": "cc0-1.0",
}

_SIZES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (10**12, "100B<n<1T"),
]


def size_category(n: int) -> str:
    for bound, label in _SIZES:
        if n < bound:
            return label
    return "n>1T"


def _hub_id(spdx: str) -> str | None:
    if spdx == "unknown":
        return "unknown"
    hub = _SPDX_TO_HUB.get(spdx, spdx.lower())
    return hub if hub in HUB_LICENSES else None


def hub_license(licenses: dict[str, int]) -> str | list[str]:
    """The card's ``license``: the records' licence if they share one, the list of Hub ids
    (``unknown`` among them when some records' licence is unknown) when they differ, and
    ``other`` when a licence has no Hub id (``license_name``/``license_link`` then say more)."""
    if not licenses:
        return "unknown"
    ids = [_hub_id(x) for x in sorted(licenses)]
    if any(i is None for i in ids):
        return "other"
    known = sorted({i for i in ids if i})
    return known[0] if len(known) == 1 else known


def config_name(dataset: str, version: str) -> str:
    """The card's config name: the dataset and version, in the characters config names take."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", dataset).strip("-.") or "dataset"
    return f"{slug}-{version}"


def check_card_values(ctx: ReleaseContext) -> None:
    """Refuse recipe values the Hub would reject, naming the key and what it accepts."""
    info = ctx.recipe.dataset if ctx.recipe is not None else None
    if info is None:
        return
    # the run's copy of the recipe is what is released: name the project's file to fix
    where = f"{ctx.project / 'datasteward.toml'} (run {ctx.run_id})"
    bad = [t for t in info.task_categories if t not in HUB_TASK_CATEGORIES]
    if bad:
        raise ReleaseError(
            f"{where}: [dataset] task_categories has {', '.join(map(repr, bad))}, which the "
            "Hugging Face Hub does not accept",
            hint="use the Hub's task categories (then run again), e.g. text-generation, "
            "fill-mask, image-to-text; all: " + ", ".join(sorted(HUB_TASK_CATEGORIES)),
        )
    bad = [x for x in info.language if not _HUB_LANGUAGE.match(x)]
    if bad:
        raise ReleaseError(
            f"{where}: [dataset] language has {', '.join(map(repr, bad))}, which the Hugging "
            "Face Hub does not accept",
            hint='use ISO 639-1 codes (two letters, lower case, e.g. "en", "fr") or ISO 639-3 '
            "codes (then run again)",
        )


def card_yaml(ctx: ReleaseContext, sheet: Any) -> dict[str, Any]:
    check_card_values(ctx)
    licenses = sheet.facts.licenses if sheet is not None else {}
    info = ctx.recipe.dataset if ctx.recipe is not None else None
    meta: dict[str, Any] = {
        "pretty_name": ctx.dataset,
        "license": hub_license(licenses),
        "size_categories": [size_category(ctx.records)],
        "language_creators": ["found"],
        "configs": [
            {
                "config_name": config_name(ctx.dataset, ctx.version),
                "default": True,
                "data_files": [{"split": "train", "path": "data/*.parquet"}],
            }
        ],
        "tags": ["datasteward"],
    }
    if ctx.links_only:
        meta["tags"].append("links-only")
    if info is not None:
        meta["tags"] += [k for k in info.keywords if k not in meta["tags"]]
    if meta["license"] == "other":
        from datasteward.rights.notice import license_url

        only = next(iter(licenses)) if len(licenses) == 1 else None
        meta["license_name"] = (
            re.sub(r"[^a-z0-9.-]+", "-", only.lower()).strip("-") if only else "per-record"
        )
        meta["license_link"] = (license_url(only) if only else None) or "NOTICE.md"
    if info is not None and info.task_categories:
        meta["task_categories"] = list(info.task_categories)
    langs = info.language if info is not None else ()
    if langs:
        meta["language"] = list(langs)
        meta["multilinguality"] = ["monolingual" if len(langs) == 1 else "multilingual"]
    return meta


def _licence_section(sheet: Any) -> list[str]:
    """The licences, with counts: one, or several that differ by record."""
    from datasteward.rights.notice import license_url
    from datasteward.text_safety import md_url

    licenses: dict[str, int] = sheet.facts.licenses if sheet is not None else {}
    if not licenses:
        return []
    out = ["## Licence", ""]
    if len(licenses) > 1:
        out += [
            "Licences differ by record: each record's licence is in its `license` column; "
            "[NOTICE](NOTICE.md) lists whom to credit.",
            "",
        ]
    for spdx, n in sorted(licenses.items(), key=lambda kv: (-kv[1], kv[0])):
        url = license_url(spdx)
        label = "licence unknown" if spdx == "unknown" else md_text(spdx)
        out.append(f"- {label}: {n:,} records" + (f" ({md_url(url)})" if url else ""))
    return [*out, ""]


def _yaml(meta: dict[str, Any]) -> str:
    """YAML front matter; values are JSON scalars/flows (valid YAML), keys in a fixed order."""
    lines = []
    for key, value in meta.items():
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines)


def _load_section(ctx: ReleaseContext) -> list[str]:
    return [
        "## Load it",
        "",
        "```python",
        "import datasteward",
        f'ds = datasteward.load("releases/{ctx.version}")  # verifies every shard\'s sha256',
        "df = ds.to_table().to_pandas()",
        "```",
        "",
    ]


def _links_section(ctx: ReleaseContext) -> list[str]:
    links = ctx.links or {}
    left = int(links.get("excluded_without_url", 0)) + int(links.get("excluded_edited", 0))
    return [
        "## Links only: fetch the content",
        "",
        "This release holds URLs, content hashes (`payload_sha256` of the page as served, "
        "`content_sha256` of the extracted text) and metadata, not the content. Fetch the pages; "
        "only those whose hashes still match are returned, the others are reported as `changed`, "
        "`unreachable` or `too_large`:",
        "",
        "```bash",
        f"datasteward fetch releases/{ctx.version} --out fetched/",
        "```",
        "",
        "```python",
        "import datasteward",
        f'result = datasteward.fetch_links("releases/{ctx.version}")',
        "table = result.records  # the verified records, with their text",
        "```",
        "",
        *(
            [
                f"{left:,} records of the run were left out: they have no http(s) URL or a step "
                "edited their text (see the datasheet, Distribution).",
                "",
            ]
            if left
            else []
        ),
    ]


def render_card(ctx: ReleaseContext, sheet: Any) -> str:
    meta = card_yaml(ctx, sheet)
    out = ["---", _yaml(meta), "---", "", f"# {md_text(ctx.dataset)} {ctx.version}", ""]
    if ctx.description:  # the stewards' Markdown, without raw HTML
        out += [md_prose(ctx.description), ""]
    out += [
        f"{ctx.records:,} records in {len(ctx.data_files)} Parquet shard(s). Every record keeps "
        "its "
        "provenance (source, URL, retrieval time, content sha256, licence, consent, attribution).",
        "",
        *(_links_section(ctx) if ctx.links_only else _load_section(ctx)),
        *_licence_section(sheet),
        "## Documentation",
        "",
        "- [Datasheet](datasheet.md): how and why the data was collected, cleaned and what it is "
        "for.",
        "- [NOTICE](NOTICE.md): attributions the licences require.",
        "- [CHANGELOG](CHANGELOG.md): what changed between releases, including takedowns.",
        "- `croissant.json` (Croissant 1.1 with RAI), `datacite.json` (DataCite 4.5), "
        "`manifest.json`.",
        "",
        "## Takedown requests",
        "",
    ]
    contact = ", ".join(md_text(s.email) for s in ctx.stewards if s.email)
    out.append(
        "If this dataset contains your content or personal data and you want it removed, write to "
        + (contact or "the stewards")
        + ". Removals are published as patch releases; see CHANGELOG.md."
    )
    return "\n".join(out).rstrip() + "\n"
