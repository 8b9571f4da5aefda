"""``datasheet.md`` / ``datasheet.html``: every question of Datasheets for Datasets answered.

Each answer says where it came from: the stewards (``datasheet.toml``) and/or measurement
(the release's shards, the run's funnel, the ledger, the audit when there is one). Questions
nobody answered are listed at the end; a non-draft release refuses to go out while a required
one is unanswered, or while the recipe changed since the parent release without a recorded
decision explaining it (:func:`check_ready`).
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.errors import DatastewardError, ReleaseError
from datasteward.release.documents.context import ReleaseContext
from datasteward.release.documents.measured import Facts, measure
from datasteward.release.documents.questions import QUESTIONS, SECTIONS, Question
from datasteward.runs.stats import StepStats
from datasteward.steps.base import Step, describe_counts
from datasteward.steps.registry import build_step
from datasteward.text_safety import md_code, md_plain, md_prose, md_text

log = logging.getLogger(__name__)

DATASHEET_TOML = "datasheet.toml"


@dataclass(frozen=True)
class Answer:
    question: Question
    stewards: str | None
    measured: str | None

    @property
    def answered(self) -> bool:
        return bool(self.stewards or self.measured)


@dataclass(frozen=True)
class Datasheet:
    dataset: str
    version: str
    created_at: str
    answers: tuple[Answer, ...]
    facts: Facts
    toml_path: str | None

    def answer(self, section: str, key: str) -> Answer:
        return next(
            a for a in self.answers if (a.question.section, a.question.key) == (section, key)
        )

    def text(self, section: str, key: str) -> str:
        a = self.answer(section, key)
        return "\n\n".join(x for x in (a.stewards, a.measured) if x)

    @property
    def unanswered(self) -> list[Question]:
        return [a.question for a in self.answers if not a.answered]

    @property
    def missing_required(self) -> list[Question]:
        return [q for q in self.unanswered if q.required]


def stewards_answers(project: Path) -> tuple[dict[str, dict[str, str]], str | None]:
    path = Path(project) / DATASHEET_TOML
    if not path.exists():
        return {}, None
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ReleaseError(
            f"{path} is not valid TOML ({exc})", hint="fix the line it names"
        ) from None
    out: dict[str, dict[str, str]] = {}
    for section, table in data.items():
        if isinstance(table, dict):
            out[section] = {
                k: str(v).strip()
                for k, v in table.items()
                if isinstance(v, (str, int, float)) and str(v).strip()
            }
    return out, DATASHEET_TOML


def _n(x: int) -> str:
    return f"{x:,}"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _links_distribution(ctx: ReleaseContext) -> str:
    links = ctx.links or {}
    no_url, edited = int(links.get("excluded_without_url", 0)), int(links.get("excluded_edited", 0))
    left_out = [
        *([f"{_n(no_url)} without an http(s) URL"] if no_url else []),
        *(
            [f"{_n(edited)} whose text a step edited (fetching would return the unedited page)"]
            if edited
            else []
        ),
    ]
    return (
        f"As links-only release {ctx.version}: Parquet shards of URLs, content hashes and "
        "metadata (no text), with a sha256 manifest, Croissant and DataCite metadata. "
        "`datasteward fetch` (or `datasteward.fetch_links()`) downloads the pages and returns "
        "only those whose hashes match. "
        + (
            "Records of the run left out because they cannot be published as links: "
            + "; ".join(left_out)
            + ". "
            if left_out
            else "Every kept record of the run is included. "
        )
        + "No DOI is registered yet (datacite.json is ready for one)."
    )


def _sampling(ctx: ReleaseContext, f: Facts, records_in: int) -> str:
    """Where the released records come from: what the run read, and every way a record read
    left it (steps, unreadable input, takedowns, what a links-only release cannot publish)."""
    gone = []
    if f.removed_by_steps is not None:
        gone.append(
            f"{_n(f.removed_by_steps)} removed by the steps listed under Preprocessing, each "
            "with a traced reason"
        )
    if f.quarantined:
        gone.append(f"{_n(f.quarantined)} quarantined as unreadable input")
    if f.excluded_links:
        gone.append(f"{_n(f.excluded_links)} left out because they cannot be published as links")
    if f.taken_down:
        where = (
            f"this release, {ctx.version}, is the takedown patch of {ctx.parent}"
            if ctx.takedowns
            else f"by takedown patches before this release, {ctx.version}"
        )
        gone.append(f"{_n(f.taken_down)} taken down on request ({where}; see CHANGELOG.md)")
    return (
        f"A filtered subset of its input: the records kept by run {md_code(ctx.run_id)}, "
        f"{_n(f.records)} of {_n(records_in)} read ({_share(f.records, records_in)}). Of "
        "the others, " + ("; ".join(gone) if gone else "none is accounted for") + "."
    )


def _missing(f: Facts) -> str:
    """Which provenance is missing from records: measured on the release's shards, and why
    when the run warned that a mapped input field was absent from every record."""
    parts = [
        f"{_n(n)} of {_n(f.records)} records have no {md_code(col)}"
        + (" (none of the records has it)" if n >= f.records else "")
        for col, n in f.missing.items()
    ]
    why = [
        f"the recipe maps {md_code(w.get('field'))} = {md_code(w.get('name'))} for source "
        f"{md_code(w.get('source'))}, but no record of it had that field"
        for w in f.field_warnings
    ]
    return (
        "; ".join(parts) + "." if parts else "Every record has its `source_uri` and `retrieved_at`."
    ) + (" The run warned: " + "; ".join(why) + "." if why else "")


def step_meanings(f: Facts) -> list[tuple[StepStats, Step | None]]:
    """Each step of the run with its class built from the options it ran with (found through
    the step registry, so a user's ``package.module:Class`` too), or None when it cannot be
    built here (its module is not importable): then the datasheet uses the counts alone."""
    out: list[tuple[StepStats, Step | None]] = []
    for s in f.steps:
        try:
            options = {k: v for k, v in s.options.items() if v is not None}
            step: Step | None = build_step(s.use, options)
        except DatastewardError as exc:
            log.warning(
                "datasheet: step %s (%s) is described by its counts only: %s", s.step_id, s.use, exc
            )
            step = None
        out.append((s, step))
    return out


def measured_answers(ctx: ReleaseContext, f: Facts) -> dict[tuple[str, str], str]:
    m: dict[tuple[str, str], str] = {}
    m["composition", "count"] = (
        f"{_n(f.records)} records in {len(ctx.data_files)} Parquet shard(s), {_n(f.data_bytes)} "
        "bytes. "
        + "By source: "
        + ", ".join(f"{md_code(k)} {_n(v)}" for k, v in f.sources.items())
        + "."
    )
    cols = ", ".join(
        f"{md_code(n)} ({md_plain(t)})"
        for n, t in zip(ctx.schema.names, (str(x) for x in ctx.schema.types), strict=True)
    )
    m["composition", "instance_data"] = f"Each record has these columns: {cols}."
    if f.records_in is not None:
        m["composition", "sampling"] = _sampling(ctx, f, f.records_in)
    if f.missing or f.field_warnings:
        m["composition", "missing"] = _missing(f)
    if ctx.recipe is not None and ctx.recipe.representation.targets:
        from datasteward.release.documents.representation import describe, release_representation

        rep = describe(release_representation(ctx))  # this release's shares vs the targets
        m["composition", "sampling"] = " ".join(
            x for x in (m.get(("composition", "sampling")), rep) if x
        )
    steps = step_meanings(f)
    # what each step adds to answers, in its own words (dedup: noise; pii: identification...)
    said: dict[tuple[str, str], list[str]] = {}
    for counts, step in steps:
        if step is not None:
            for key, text in step.datasheet_answers(counts, records_read=f.records_in).items():
                said.setdefault(key, []).append(text)
    noise = said.pop(("composition", "noise"), [])
    if f.records_in is not None:
        # unreadable input is not in the dataset: the sampling answer counts it
        m["composition", "noise"] = " ".join(noise or ["No step of the recipe removes duplicates."])
    if f.with_uri and ctx.links_only:
        m["composition", "external"] = (
            f"Yes: this is a links-only release. Its {_n(f.with_uri)} records name the URL of "
            f"their content (`source_uri`), across {_n(f.hosts)} hosts, and the content itself "
            "is not included: it depends on those sites. Pages change or disappear; "
            "`datasteward fetch` keeps only the pages whose sha256 still matches the release "
            "(`payload_sha256` of the page as served, else `content_sha256` of the extracted "
            "text) and reports the others as changed or unreachable."
        )
    elif f.with_uri:
        m["composition", "external"] = (
            f"{_n(f.with_uri)} records name the URL their content came from (`source_uri`), "
            f"across {_n(f.hosts)} hosts; the text is included, so the dataset does not depend "
            "on them."
        )
    for key, texts in said.items():
        m[key] = " ".join(texts)
    if f.sources:
        m["collection", "mechanisms"] = (
            "Software: datasteward sources "
            + ", ".join(
                f"{md_code(s.name)} ({s.format}, {s.path})"
                for s in (ctx.recipe.sources if ctx.recipe is not None else ())
            )
            + "."
        )
    if f.retrieved_min:
        m["collection", "timeframe"] = (
            f"Content retrieved between {f.retrieved_min} and {f.retrieved_max} (from "
            "`retrieved_at`)."
        )
    if f.consent:
        m["collection", "notice_and_consent"] = (
            "Consent recorded per record: "
            + ", ".join(f"{md_code(k)} {_n(v)}" for k, v in f.consent.items())
            + "."
        )
    if f.steps:
        lines = [
            step.describe(counts) if step is not None else describe_counts(counts)
            for counts, step in steps
        ]
        m["preprocessing", "done"] = "Steps of the recipe, in order: " + "; ".join(lines) + "."
        m["preprocessing", "raw_saved"] = (
            f"Yes: every removed record is kept with its reason in run {md_code(ctx.run_id)} "
            "(`removed/`, `trace/`)."
        )
    m["preprocessing", "software"] = (
        "Yes: datasteward (open source) with the recipe in the run's `recipe.toml`"
        + (f" (recipe hash {md_code(ctx.recipe_hash)})." if ctx.recipe_hash else ".")
    )
    if ctx.recipe is not None and ctx.recipe.annotations:
        from datasteward.annotations.summary import measure_cached

        parts = measure_cached(ctx.recipe, ctx.project)
        m["collection", "who"] = " ".join(md_text(p["protocol"]) + "." for p in parts)
        m["composition", "labels"] = " ".join(
            md_text(p["analysis"]) + "; labels per item " + md_text(p["per_item"]) + "."
            for p in parts
        )
        joined = [  # the aggregate label columns the release joined (release/build/labels.py)
            f"{md_code(x.name)}: {md_text(x.metadata[b'description'].decode())}"
            for x in ctx.schema
            if x.metadata and x.metadata.get(b"datasteward") == b"label"
        ]
        if joined:
            m["composition", "labels"] += " Columns: " + " ".join(joined)
    m["distribution", "how"] = (
        f"As release {ctx.version}: Parquet shards with a sha256 manifest, Croissant and "
        "DataCite metadata; "
        "load it with `datasteward.load()`, which verifies every shard. No DOI is registered yet "
        "(datacite.json is ready for one)."
    )
    if ctx.links_only:
        m["distribution", "how"] = _links_distribution(ctx)
    m["distribution", "when"] = f"Released {ctx.created_at[:10]}."
    if f.licenses:
        m["distribution", "license"] = (
            "Licence per record: "
            + ", ".join(f"{md_code(k)} {_n(v)}" for k, v in f.licenses.items())
            + " (see NOTICE.md)."
        )
    names = [s for s in ctx.stewards if s.name]
    if names:
        m["maintenance", "maintainer"] = (
            "The stewards: "
            + ", ".join(f"{md_text(s.name)} ({md_text(s.role)})" for s in names)
            + "."
        )
        emails = [s.email for s in names if s.email]
        if emails:
            m["maintenance", "contact"] = "E-mail: " + ", ".join(map(md_text, emails)) + "."
    if ctx.takedowns or ctx.parent:
        m["maintenance", "erratum"] = "See CHANGELOG.md" + (
            f": this release is a takedown patch of {ctx.parent}." if ctx.takedowns else "."
        )
    m["maintenance", "older_versions"] = (
        "Older releases stay immutable; their status (current, superseded by a takedown patch, "
        "deprecated) "
        "is in each release's status.json and in releases/registry.json, and "
        "`datasteward.load()` warns or refuses accordingly."
    )
    m["maintenance", "takedown"] = (
        "Ask the stewards (contact above); they record the request with `datasteward takedown "
        "add`, and "
        "`takedown apply` issues a patch release without the matching records and suppresses "
        "them in later runs."
    )
    if f.audit:
        from datasteward.release.documents.measured import flagged_slices

        flagged = flagged_slices(f.audit)
        where = f"The audit of run {md_code(ctx.run_id)} (audit.json)"
        if flagged:
            items = "; ".join(
                f"{md_code(st)} removed {md_text(dim)} {md_code(sl)} at {rate:.1%} vs "
                f"{overall:.1%} overall"
                for st, dim, sl, rate, overall in flagged[:20]
            )
            m["uses", "risks"] = (
                f"{where} found slices removed significantly more often than the rest: {items}."
            )
        else:
            m["uses", "risks"] = (
                f"{where} found no slice that a step removed significantly more often than "
                "the rest."
            )
        reviews = f.audit.get("reviews")
        if isinstance(reviews, dict) and reviews:
            m["composition", "noise"] = (
                m.get(("composition", "noise"), "")
                + " Reviewed samples: "
                + ", ".join(
                    f"{md_text(k)}: {md_text(v)}"
                    for k, v in sorted(reviews.items())
                    if not isinstance(v, (dict, list))
                )
                + "."
            ).strip()
    return m


def build_datasheet(ctx: ReleaseContext, facts: Facts | None = None) -> Datasheet:
    f = facts if facts is not None else measure(ctx)
    given, toml_path = stewards_answers(ctx.project)
    measured = measured_answers(ctx, f)
    answers = tuple(
        Answer(q, given.get(q.section, {}).get(q.key) or None, measured.get((q.section, q.key)))
        for q in QUESTIONS
    )
    return Datasheet(ctx.dataset, ctx.version, ctx.created_at, answers, f, toml_path)


def render_markdown(sheet: Datasheet) -> str:
    out = [f"# Datasheet — {md_text(sheet.dataset)} {sheet.version}", ""]
    out.append(
        "Answers to the questions of *Datasheets for Datasets* (Gebru et al., v7). "
        "**Stewards** answers come from datasheet.toml; **Measured** answers were computed from "
        "this release, the run that produced it and the ledger."
    )
    out.append("")
    for section, title in SECTIONS.items():
        out += [f"## {title}", ""]
        for a in (a for a in sheet.answers if a.question.section == section):
            q = a.question
            out.append(f"### {q.text}" + (" *(required)*" if q.required else ""))
            out.append("")
            if a.stewards:  # their Markdown, without raw HTML
                out += [f"**Stewards:** {md_prose(a.stewards)}", ""]
            if a.measured:
                out += [f"**Measured:** {a.measured}", ""]
            if not a.answered:
                out += ["*Unanswered.*", ""]
    out += ["## Unanswered questions", ""]
    if sheet.unanswered:
        out += [
            f"- `[{q.section}] {q.key}`" + (" (required)" if q.required else "") + f": {q.text}"
            for q in sheet.unanswered
        ]
    else:
        out.append("None.")
    return "\n".join(out).rstrip() + "\n"


def _markdown() -> Any:
    """The Markdown renderer of the HTML datasheet: CommonMark with raw HTML off (answers are
    escaped for Markdown by text_safety; an HTML tag in them is shown as text), and
    markdown-it's link check (no ``javascript:``/``vbscript:``/``data:`` links)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_html(sheet: Datasheet) -> str:
    """``datasheet.html``: the shared template ``datasheet.html`` (datasteward.html, autoescaped);
    the stewards' answers and the measured facts are Markdown rendered here (raw HTML off)."""
    from markupsafe import Markup

    from datasteward.html import render

    md = _markdown()

    def prose(text: str) -> Markup:
        # markdown-it escapes the text it renders and emits no raw HTML (html=False)
        return Markup(md.render(text).rstrip())  # noqa: S704

    sections = [
        {
            "id": section,
            "title": title,
            "answers": [
                {
                    "key": a.question.key,
                    "text": a.question.text,
                    "required": a.question.required,
                    "stewards": prose(f"**Stewards:** {md_prose(a.stewards)}")
                    if a.stewards
                    else "",
                    "measured": prose(f"**Measured:** {a.measured}") if a.measured else "",
                    "answered": a.answered,
                }
                for a in sheet.answers
                if a.question.section == section
            ],
        }
        for section, title in SECTIONS.items()
    ]
    return render(
        "datasheet.html",
        dataset=sheet.dataset,
        version=sheet.version,
        sections=sections,
        unanswered=sheet.unanswered,
    )


def unexplained_changes(ctx: ReleaseContext) -> list[str]:
    """Recipe changes since the parent release's run that no recorded decision explains."""
    if not ctx.parent or not ctx.run_id:
        return []
    from datasteward.ledger import Ledger
    from datasteward.ledger.changes import changes_since
    from datasteward.release.format.manifest import read_manifest
    from datasteward.release.format.project import releases_dir

    parent_run = read_manifest(releases_dir(ctx.project) / ctx.parent).run_id
    if not parent_run or parent_run == ctx.run_id:
        return []
    with Ledger.open(ctx.project) as ledger:
        base, new = ledger.get_run(parent_run), ledger.get_run(ctx.run_id)
        if base is None or new is None:
            return []
        changes = changes_since(ledger, base, new.recipe_canonical, new.recipe_hash)
    if not changes or changes[0].explained:  # one decision explains all changes, or none
        return []
    return [f"{c.kind} {c.path}" for c in changes]


def check_ready(ctx: ReleaseContext, sheet: Datasheet | None = None) -> None:
    """Raise if this (non-draft) release may not go out."""
    s = sheet if sheet is not None else build_datasheet(ctx)
    missing = s.missing_required
    if missing:
        keys = ", ".join(f"[{q.section}] {q.key}" for q in missing)
        raise ReleaseError(
            f"release {ctx.version}: {len(missing)} required datasheet question(s) unanswered: "
            f"{keys}",
            hint=f"answer them in {ctx.project / DATASHEET_TOML}, or release with --draft",
        )
    changes = unexplained_changes(ctx)
    if changes:
        raise ReleaseError(
            f"release {ctx.version}: the recipe changed since release {ctx.parent} without a "
            f"decision explaining it: {'; '.join(changes[:5])}",
            hint=(
                "record why with `datasteward decide ... --rationale ... --by ...`, or release "
                "with --draft"
            ),
        )


def answers_for(sheet: Datasheet) -> dict[str, Any]:
    return {
        f"{a.question.section}.{a.question.key}": a.stewards or a.measured for a in sheet.answers
    }
