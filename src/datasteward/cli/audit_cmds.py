"""``audit``, ``whatif``, ``sample`` and ``review``: look at what a run kept and removed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from datasteward.cli._common import ProjectOption, console, human_seconds, print_data_json
from datasteward.recipe.model import RECIPE_FILE
from datasteward.runs.find import find_run
from datasteward.runs.layout import RunLayout


def _config(project: Path, run_dir: Path, **overrides: Any) -> Any:
    from datasteward.audit.config import config_from_recipe_file

    recipe = project / RECIPE_FILE
    cfg = config_from_recipe_file(recipe if recipe.is_file() else RunLayout(run_dir).recipe_toml)
    return cfg.with_overrides(**overrides)


def _targets(project: Path, run_dir: Path) -> Any:
    """The ``[representation]`` targets of the project's recipe (else the run's snapshot)."""
    from datasteward.recipe.model import load_recipe

    recipe = project / RECIPE_FILE
    path = recipe if recipe.is_file() else RunLayout(run_dir).recipe_toml
    return load_recipe(path).representation.targets if path.is_file() else {}


def audit(
    run: str | None = typer.Argument(None, help="Run id or folder (default: newest finished)."),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for report.html and audit.json (default: the run's runs/RUN/audit/, "
        "which a release of the run quotes).",
    ),
    project: Path = ProjectOption,
    slices: list[str] = typer.Option([], "--slice", help="Extra slice NAME=SQL (repeatable)."),
    lexicons: list[Path] = typer.Option([], "--lexicon", help="Extra lexicon file (repeatable)."),
    no_identity: bool = typer.Option(
        False, "--no-identity", help="Skip the built-in identity lexicon."
    ),
    min_ratio: float | None = typer.Option(
        None, "--min-ratio", help="Flag slices removed at least this many times as often (1.5)."
    ),
    confidence: float | None = typer.Option(
        None, "--confidence", help="Confidence of the intervals (0.95)."
    ),
    min_records: int | None = typer.Option(
        None, "--min-records", help="Smallest slice (records reaching a step) to flag (30)."
    ),
    samples: int | None = typer.Option(
        None, "--samples", help="Random records shown per removal reason (5)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the samples (0)."),
    metadata_columns: list[str] = typer.Option(
        [], "--metadata-column",
        help="Chart a metadata column or key of `metadata` (repeatable; adds to the recipe's).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print where it wrote and the flagged slices as JSON."
    ),
) -> None:
    """Audit a run: composition, funnel, slice impact and samples, as report.html + audit.json.

    Examples:
      [bold]datasteward audit[/]                 the newest run, into runs/RUN/audit/
      [bold]datasteward audit --out audit/ --slice 'short=length_words < 100'[/]
    """
    from datasteward.audit import audit_run
    from datasteward.audit.config import parse_slice_option
    from datasteward.release.format.project import releases_of_run

    run_dir = find_run(project, run)
    cfg = _config(project, run_dir, min_ratio=min_ratio, confidence=confidence,
                  min_records=min_records, samples=samples, seed=seed)
    base = () if no_identity else cfg.lexicons
    extra = {}
    if slices:
        extra["slices"] = cfg.slices + tuple(parse_slice_option(s) for s in slices)
    if metadata_columns:
        extra["metadata_columns"] = cfg.metadata_columns + tuple(
            m for m in metadata_columns if m not in cfg.metadata_columns
        )
    cfg = cfg.with_overrides(lexicons=tuple(base) + tuple(str(p) for p in lexicons), **extra)
    reviews = _reviews(project, run_dir.name)
    targets = _targets(project, run_dir)
    releases = releases_of_run(project, run_dir.name)  # their representation, too
    if out is None:
        out = RunLayout(run_dir).audit_json.parent
    if as_json:
        result = audit_run(run_dir, out, cfg, reviews=reviews, targets=targets, releases=releases)
    else:
        with console.status(f"Auditing run {escape(run_dir.name)}..."):
            result = audit_run(run_dir, out, cfg, reviews=reviews, targets=targets,
                               releases=releases)
    flagged = [
        (st["step_id"], d["label"], r)
        for st in result["slice_impact"] for d in st["dimensions"] for r in d["slices"]
        if r["flagged"]
    ]
    if as_json:
        print_data_json(
            {
                "run_id": run_dir.name,
                "out": str(out),
                "report": str(out / "report.html"),
                "audit_json": str(out / "audit.json"),
                "records": result["composition"]["totals"]["input"]["records"],
                "seconds": result["seconds"],
                "flagged": [
                    {"step": step, "dimension": dim, **r} for step, dim, r in flagged
                ],
            }
        )
        return
    table = Table(
        title=f"Slices removed markedly more often ({len(flagged)})", title_justify="left"
    )
    for col in ("step", "slice", "removed", "rate", "overall", "ratio"):
        table.add_column(col)
    overall = {st["step_id"]: st["overall"]["rate"] for st in result["slice_impact"]}
    for step, dim, r in sorted(flagged, key=lambda t: -(t[2]["ratio"] or 0))[:15]:
        table.add_row(escape(step), escape(f"{dim}: {r['label']}"), f"{r['k']:,}/{r['n']:,}",
                      f"{r['rate']:.1%}", f"{overall[step]:.1%}", f"{r['ratio']:.2f}")
    if flagged:
        console.print(table)
    console.print(f"Audited {result['composition']['totals']['input']['records']:,} records in "
                  f"{human_seconds(result['seconds'])}.")
    console.print(f"Report: {escape(str(out / 'report.html'))}")
    console.print(f"Figures: {escape(str(out / 'audit.json'))}")


def _reviews(project: Path, run_id: str) -> list[dict[str, Any]] | None:
    """Per-stratum review results from the ledger, if the project has one with reviews."""
    from datasteward.audit.review import review_summary

    return review_summary(project, run_id)


def whatif(
    run: str | None = typer.Argument(None, help="Run id or folder (default: newest finished)."),
    step: str = typer.Option(..., "--step", "-s", help="Step id (s03-gopher.quality) or name."),
    sets: list[str] = typer.Option([], "--set", help="key=value option to change (repeatable)."),
    project: Path = ProjectOption,
    audit_dir: Path | None = typer.Option(
        None, "--audit", help="An audit folder of this run: adds its identity and SQL slices."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    top: int = typer.Option(15, "--top", help="Slices shown per dimension."),
) -> None:
    """What if a step had other options? Records each slice would gain or lose, from the
    stored signals, without re-running anything.

    Example: [bold]datasteward whatif --step gopher.quality --set min_doc_words=30[/]
    """
    import json

    from datasteward.audit.whatif import parse_sets
    from datasteward.audit.whatif import whatif as run_whatif

    run_dir = find_run(project, run)
    result = run_whatif(run_dir, step, parse_sets(sets), audit_dir=audit_dir, top=top)
    if as_json:
        console.print_json(json.dumps(result, default=str))
        return
    o = result["overall"]
    changed = ", ".join(f"{k}: {result['options_before'].get(k)!r} -> {v!r}"
                        for k, v in result["set"].items()) or "no change"
    console.print(f"[bold]{escape(result['step_id'])}[/] with {escape(changed)}")
    console.print(
        f"Of {o['reached']:,} records that reached the step, it removed {o['removed']:,}; "
        f"it would remove {o['would_remove']:,}: [red]{o['lost']:,} kept records lost[/], "
        f"[green]up to {o['regained']:,} regained[/] (later steps never saw them)."
    )
    console.print(f"[dim]The run's own options reproduce its decision for "
                  f"{result['reproduced_share']:.2%} of the records (signals: "
                  f"{escape(', '.join(result['signals']))}). {escape(result['note'])}[/]")
    for d in result["slices"]:
        t = Table(title=f"by {d['dimension']}", title_justify="left")
        for col in ("slice", "reached", "removed", "would remove", "lost", "regained"):
            t.add_column(col, justify="left" if col == "slice" else "right")
        for r in d["slices"]:
            t.add_row(escape(str(r["slice"])), f"{r['reached']:,}", f"{r['removed']:,}",
                      f"{r['would_remove']:,}", f"{r['lost']:,}", f"{r['regained']:,}")
        console.print(t)
    console.print(f"[dim]{result['seconds']:.2f} s[/]")


def sample(
    run: str | None = typer.Argument(None, help="Run id or folder (default: newest finished)."),
    out: Path = typer.Option(..., "--out", "-o", help="Export file: .jsonl, .csv or .html."),
    by: str = typer.Option("reason", "--by", help="Strata: reason, source or slice:DIM."),
    outcome: str = typer.Option("removed", "--outcome", help="removed, kept or all."),
    per_stratum: int = typer.Option(20, "--per-stratum", "-n", min=1, help="Records per stratum."),
    seed: int = typer.Option(0, "--seed", help="Seed of the draw."),
    audit_dir: Path | None = typer.Option(
        None, "--audit", help="An audit folder of this run (for --by slice:DIM)."
    ),
    name: str | None = typer.Option(None, "--name", help="A name for the sample."),
    stratify: bool = typer.Option(
        False, "--stratify", help="Meet the recipe's [representation.DIM] target shares: "
        "-n is then the sample's size, split by the targets (DIM: source, or slice:DIM's)."
    ),
    project: Path = ProjectOption,
) -> None:
    """Draw a stratified random sample of a run's records for human review, export it, and
    record it in the ledger (its id is what `datasteward review` takes).

    Example: [bold]datasteward sample --by reason -n 25 --out review.html[/]
    """
    from datasteward.audit.review import draw_sample, export_sample
    from datasteward.ledger import Ledger

    run_dir = find_run(project, run)
    quotas = _representation_quotas(project, by, per_stratum) if stratify else None
    items, records = draw_sample(run_dir, outcome=outcome, by=by, per_stratum=per_stratum,
                                 seed=seed, audit_dir=audit_dir, quotas=quotas)
    if not items:
        console.print("No record matches: nothing to review.")
        raise typer.Exit(0)
    spec = {"by": by, "outcome": outcome, "per_stratum": per_stratum, "seed": seed}
    if quotas is not None:
        spec["quotas"] = quotas
    label = name or f"{by} {outcome} x{per_stratum}"
    with Ledger.open(project) as ledger:
        sid = ledger.record_sample(run_id=run_dir.name, name=label, spec=spec, items=items)
    fmt = export_sample(items, records, out, title=f"Review sample #{sid}: {label}")
    strata = sorted({i["stratum"] for i in items})
    console.print(f"Sample [bold]#{sid}[/]: {len(items):,} records in {len(strata)} strata "
                  f"of run {escape(run_dir.name)}, written as {fmt} to {escape(str(out))}.")
    console.print(f"Review it: [bold]datasteward review {sid} --by NAME[/] "
                  "(or --from judgements.jsonl)")


def _representation_quotas(project: Path, by: str, size: int) -> dict[str, int]:
    """round(size x target share) per value of ``[representation.DIM]`` (DIM: --by's)."""
    from datasteward.cli._common import load_project_recipe
    from datasteward.errors import RecipeError

    recipe = load_project_recipe(project)
    dim = by.split(":", 1)[1] if by.startswith("slice:") else by
    targets = recipe.representation.targets.get(dim)
    if not targets:
        raise RecipeError(
            f"{recipe.path}: no [representation.{dim}] targets for --stratify",
            hint=f"add [representation.{dim}] with a share per value (docs/annotations.md)",
        )
    return {value: round(size * share) for value, (share, _tol) in targets.items()}


_CATEGORIES = ("wrongly-removed", "wrongly-kept", "offensive", "pii", "low-quality",
               "not-target-language", "duplicate", "other")


def review(
    sample_id: int = typer.Argument(..., help="The sample id `datasteward sample` printed."),
    by: str = typer.Option(..., "--by", help="Your name (recorded with each judgement)."),
    from_file: Path | None = typer.Option(
        None, "--from", help="Judgements from a file (JSONL/CSV: record_id, verdict, category, "
        "note) instead of prompts."
    ),
    project: Path = ProjectOption,
    text_chars: int = typer.Option(1500, "--text-chars", help="Text shown per record."),
) -> None:
    """Judge sampled records (ok / problem, with a category and a note), in the ledger.

    Examples:
      [bold]datasteward review 3 --by ana[/]                        prompts record by record
      [bold]datasteward review 3 --by ana --from judged.jsonl[/]   from a file
    """
    from rich.prompt import Prompt

    from datasteward.audit.review import read_judgements
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        info = ledger.sample_info(sample_id)
        if from_file is not None:
            n: Counter[str] = Counter()
            for j in read_judgements(from_file):
                ledger.record_review(sample_id=sample_id, reviewer=by, **j)  # type: ignore[arg-type]
                n[str(j["verdict"])] += 1
            console.print(f"Recorded {sum(n.values()):,} judgements of sample #{sample_id}: "
                          + ", ".join(f"{v} {k}" for k, v in sorted(n.items())))
            return
        pending = ledger.sample_items(sample_id, pending_only=True)
        if not pending:
            console.print(f"Sample #{sample_id} has no record left to review.")
            return
        from datasteward.audit.rundata import connect, open_run
        from datasteward.audit.samples import fetch_records

        run = open_run(find_run(project, info["run_id"]))
        con = connect(run)
        try:
            records = fetch_records(con, [i.record_id for i in pending], text_chars=text_chars)
        finally:
            con.close()
        console.print(f"{len(pending)} records to review in sample #{sample_id} "
                      f"({escape(info['name'])}). [dim]o = ok, p = problem, s = skip, q = quit[/]")
        done = 0
        for item in pending:
            rec = records.get(item.record_id, {})
            console.rule(f"{escape(item.stratum)} — {escape(item.record_id)}")
            for key in ("source", "source_uri", "retrieved_at", "license", "consent"):
                console.print(f"[dim]{key}:[/] {escape(str(rec.get(key)))}")
            for t in rec.get("trace", []):
                console.print(f"[dim]{escape(str(t['step']))} {escape(str(t['reason']))} "
                              f"value={t['value']} threshold={t['threshold']}[/]")
            console.print(escape(rec.get("text") or ""), markup=True, highlight=False)
            answer = Prompt.ask("verdict", choices=["o", "p", "s", "q"], default="o")
            if answer == "q":
                break
            if answer == "s":
                continue
            category = note = None
            if answer == "p":
                category = Prompt.ask("category", default="other",
                                      choices=list(_CATEGORIES), show_choices=True)
                note = Prompt.ask("note (optional)", default="") or None
            ledger.record_review(sample_id=sample_id, record_id=item.record_id,
                                 verdict="ok" if answer == "o" else "problem", reviewer=by,
                                 category=category, note=note)
            done += 1
        console.print(f"Recorded {done} judgements. The next `datasteward audit` shows the "
                      "share of problems per stratum.")


def register(app: typer.Typer) -> None:
    app.command()(audit)
    app.command()(whatif)
    app.command()(sample)
    app.command()(review)


