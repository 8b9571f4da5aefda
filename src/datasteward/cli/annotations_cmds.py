"""Annotation commands: ``annotations agreement | aggregate | issues | labour`` over label
files (CSV, TSV, JSONL, Parquet; one row per item x annotator x label).

Annotator ids are pseudonymised (keyed hash; the key from DATASTEWARD_ANNOTATOR_KEY or the
project's .datasteward/annotator.key) in everything these commands print or write.

Exit codes: 0 ok (quarantined rows are counted and listed, not fatal), 1 error (no such file,
unknown method or level).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from datasteward.cli._common import console, err_console, print_data_json, term

annotations_app = typer.Typer(
    help="Crowd labels: agreement, aggregation, label issues and the labour behind them.\n\n"
    "Example: [bold]datasteward annotations agreement labels.csv --level nominal[/]",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

FILES = typer.Argument(..., help="Label files (.csv, .tsv, .jsonl, .parquet).", exists=True)
ITEM = typer.Option("item", "--item-col", help="Column of the item (record) id.")
ANNOTATOR = typer.Option("annotator", "--annotator-col", help="Column of the annotator id.")
LABEL = typer.Option("label", "--label-col", help="Column of the label.")
PROJECT = typer.Option(
    Path("."), "--project", "-p", help="Project folder (its key file pseudonymises ids)."
)
JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _load(files: list[Path], item: str, annotator: str, label: str, **extra: Any) -> Any:
    from datasteward.annotations.labels import LabelColumns, read_labels

    ls = read_labels(files, LabelColumns(item=item, annotator=annotator, label=label, **extra))
    _show_quarantined(ls)
    return ls


def _show_quarantined(ls: Any) -> None:
    for q in ls.quarantined[:20]:
        err_console.print(f"quarantined {term(q.where)}: {term(q.reason)}")
    if len(ls.quarantined) > 20:
        err_console.print(f"... and {len(ls.quarantined) - 20} more quarantined rows")


def _coded(ls: Any, project: Path) -> Any:
    from datasteward.annotations.decision import coded_labels
    from datasteward.annotations.pseudonymise import project_secret

    return coded_labels(ls, project_secret(project))


@annotations_app.command("agreement")
def agreement_cmd(
    files: list[Path] = FILES,
    item: str = ITEM,
    annotator: str = ANNOTATOR,
    label: str = LABEL,
    level: str = typer.Option("nominal", "--level", help="nominal|ordinal|interval|ratio"),
    resamples: int = typer.Option(1000, "--resamples", help="Bootstrap resamples.", min=0),
    slice_col: str | None = typer.Option(
        None, "--slice-col", help="Column naming each item's slice: alpha per slice too."
    ),
    project: Path = PROJECT,
    as_json: bool = JSON,
) -> None:
    """Krippendorff's alpha with a bootstrap interval, Fleiss' and Cohen's kappa, per label
    and per annotator against the rest.

    Example: [bold]datasteward annotations agreement answer.csv --item-col question
    --annotator-col worker --label-col answer[/]"""
    from datasteward.annotations import agreement as ag
    from datasteward.errors import RecipeError

    if level not in ag.LEVELS:
        raise RecipeError(f"unknown --level {level!r}", hint=f"use one of {', '.join(ag.LEVELS)}")
    ls = _load(files, item, annotator, label, slice=slice_col)
    coded = _coded(ls, project)
    rep = ag.report(coded, level, resamples=resamples)
    slices: dict[str, ag.Interval] = {}
    if slice_col:
        item_slice = {
            int(coded.item[i]): str(v) for i, v in enumerate(ls.extra["slice"]) if v is not None
        }
        slices = ag.by_slice(coded, item_slice, level, resamples=resamples)
    data = dataclasses.asdict(rep) | {
        "quarantined": len(ls.quarantined),
        "per_slice": {k: dataclasses.asdict(v) for k, v in slices.items()},
    }
    if as_json:
        print_data_json(data)
        return
    a = rep.alpha
    console.print(
        f"{rep.labels:,} labels, {rep.items:,} items, {rep.annotators} annotators "
        f"({len(ls.quarantined)} rows quarantined)"
    )
    if a.value is None:
        console.print("alpha: undefined (no item with two labels, or one value only)")
    else:
        ci = ""
        if a.low is not None and a.high is not None:
            ci = f" [{a.low:.4f}, {a.high:.4f}] (95%)"
        console.print(f"Krippendorff's alpha ({level}): {a.value:.4f}{ci}")
    if rep.fleiss_kappa is not None:
        console.print(f"Fleiss' kappa: {rep.fleiss_kappa:.4f}")
    if rep.mean_cohen_kappa is not None:
        console.print(f"mean pairwise Cohen's kappa: {rep.mean_cohen_kappa:.4f}")
    for name, iv in slices.items():
        console.print(f"  slice {term(name)}: alpha {iv.value} [{iv.low}, {iv.high}]")
    for name, v in rep.per_label.items():
        console.print(f"  label {term(name)}: specific agreement {v}")
    console.print("least agreeing annotators (pseudonyms):")
    for r in rep.per_annotator[:10]:
        console.print(f"  {r.annotator}: {r.labels} labels, agreement {r.agreement}")


@annotations_app.command("aggregate")
def aggregate_cmd(
    files: list[Path] | None = typer.Argument(
        None, help="Label files (.csv, .tsv, .jsonl, .parquet); or --table.", exists=True
    ),
    item: str = ITEM,
    annotator: str = ANNOTATOR,
    label: str = LABEL,
    table: str | None = typer.Option(
        None,
        "--table",
        help="Aggregate the recipe's annotations table NAME (its files, columns, label "
        "space, method); with --decide-by, releases join this aggregate onto their records.",
    ),
    method: str | None = typer.Option(
        None, "--method", help="mv|ds|glad|mace|mean|median (default: the table's, else ds)"
    ),
    out: Path | None = typer.Option(None, "--out", help="Write item,label,confidence (.csv)."),
    issues: int = typer.Option(20, "--issues", help="Show this many label issues.", min=0),
    decide_by: str | None = typer.Option(
        None,
        "--decide-by",
        help="Record the choice of method as a steward's decision in the project's ledger.",
    ),
    review: bool = typer.Option(
        False,
        "--review",
        help="Record the --issues most doubtful items as a review sample of the run whose "
        "records they are (`datasteward review ID`, the web review queue).",
    ),
    run: str | None = typer.Option(
        None, "--run", help="The run of --review, --record-labels (default: newest)."
    ),
    record_labels: Path | None = typer.Option(
        None,
        "--record-labels",
        help="Write id,label,confidence (.parquet) for the items that are records of the run "
        "(id: the record id), to join the aggregate label onto the records.",
    ),
    source: str | None = typer.Option(
        None, "--source", help="Items are the ids this source read (record id SOURCE:ITEM)."
    ),
    project: Path = PROJECT,
    as_json: bool = JSON,
) -> None:
    """One label per item and its confidence; the most doubtful items; annotator quality.

    Examples:
      [bold]datasteward annotations aggregate answer.csv --method ds --out agg.csv[/]
      [bold]datasteward annotations aggregate labels.csv --review --source tweets[/]
      [bold]datasteward annotations aggregate --table breed --decide-by "Ana Ruiz"[/]"""
    import csv

    from datasteward.annotations.aggregate import AggregateOptions, aggregate
    from datasteward.annotations.issues import label_issues

    cfg = None
    if table is not None and files:
        from datasteward.errors import RecipeError

        raise RecipeError(
            "pass label FILES or --table, not both",
            hint="--table reads the files, columns and method of the recipe's table",
        )
    if table is not None:
        cfg, ls, coded = _table_labels(project, table)
        files = [project / f for f in cfg.files]
        method = method or cfg.method
    elif files:
        ls = _load(files, item, annotator, label)
        coded = _coded(ls, project)
    else:
        from datasteward.errors import RecipeError

        raise RecipeError("no label files", hint="name the files, or --table NAME")
    files = files or []
    method = method or "ds"
    options = AggregateOptions(method=method)  # type: ignore[arg-type]
    agg = aggregate(coded, options)
    found = label_issues(coded, agg, top=issues)
    if out is not None:
        with out.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["item", "label", "confidence", "method"])
            for i, lab, conf in zip(agg.items, agg.labels, agg.confidence, strict=True):
                w.writerow([i, lab, f"{conf:.6f}", method])
    decision_id = None
    if decide_by and cfg is not None:
        decision_id = _record_table(project, cfg, agg, options, decide_by, source)
    elif decide_by:
        decision_id = _record_method(project, method, files, agg, decide_by)
    joined = None
    if record_labels is not None:
        joined = _record_labels(project, run, source, agg, record_labels)
    sample_id = missing = None
    if review:
        sample_id, missing = _review_sample(project, run, source, method, files, found)
    data = {
        "method": method,
        "decision": decision_id,
        "review_sample": sample_id,
        "review_missing": missing,
        "record_labels": joined,
        "items": len(agg.items),
        "quarantined": len(ls.quarantined),
        "annotator_quality": agg.quality,
        "label_issues": [dataclasses.asdict(x) for x in found],
    }
    if as_json:
        print_data_json(data)
        return
    console.print(
        f"{len(agg.items):,} items aggregated by {method}" + (f" -> {out}" if out else "")
    )
    console.print("label issues (most doubtful first):")
    for x in found:
        console.print(
            f"  {term(x.item)}: score {x.score:.3f}, label {term(x.label)}, "
            f"confidence {x.confidence:.3f}, consensus {x.consensus:.3f} of {x.labels}"
        )
    console.print("least reliable annotators (pseudonyms):")
    for a, q in list(agg.quality.items())[:10]:
        console.print(f"  {a}: {q:.3f}")
    if joined is not None:
        console.print(
            f"{joined['rows']:,} record labels -> {term(joined['path'])} "
            f"({joined['missing']:,} items are no record of the run)"
        )
    if sample_id is not None:
        console.print(
            f"review sample #{sample_id}: {len(found) - len(missing or [])} label issues "
            f"(`datasteward review {sample_id} --by NAME`)"
            + (f"; {len(missing or [])} items are no record of the run" if missing else "")
        )


def _table_labels(project: Path, table: str) -> tuple[Any, Any, Any]:
    """A recipe's [[annotations]] table: its config, labels (quarantine listed) and codes."""
    from datasteward.annotations.decision import coded_labels, read_table, table_config
    from datasteward.annotations.pseudonymise import project_secret
    from datasteward.recipe import load_recipe

    cfg = table_config(load_recipe(project), table)
    ls = read_table(cfg, project)
    _show_quarantined(ls)
    return cfg, ls, coded_labels(ls, project_secret(project))


def _record_table(
    project: Path, cfg: Any, agg: Any, options: Any, by: str, source: str | None
) -> int:
    """The table's aggregation as a decision (method, parameters, sha256 of the label files
    and of the kept aggregate) that releases join onto their records."""
    from datasteward.annotations.decision import record_aggregation
    from datasteward.recipe import load_recipe

    rec = record_aggregation(
        project, cfg, agg, options, by=by, source=source, recipe_hash=load_recipe(project).hash
    )
    return rec.decision_id


def _record_labels(
    project: Path, run: str | None, source: str | None, agg: Any, path: Path
) -> dict[str, Any]:
    """The aggregate labels of the items that are records of the run, as a Parquet file."""
    from datasteward.audit.label_review import LabelReviewOptions, write_record_labels
    from datasteward.runs.find import find_run

    run_dir = find_run(project, run)
    items = [str(i) for i in agg.items]
    n, missing = write_record_labels(
        run_dir, items, agg.labels, agg.confidence, path, LabelReviewOptions(source=source)
    )
    if not n:
        err_console.print(
            f"none of the {len(items)} items is a record of run {term(run_dir.name)}: "
            "record ids are SOURCE:ID for sources with an id_field (pass --source SOURCE)"
        )
    return {"path": str(path), "run_id": run_dir.name, "rows": n, "missing": len(missing)}


def _review_sample(
    project: Path,
    run: str | None,
    source: str | None,
    method: str,
    files: list[Path],
    found: list[Any],
) -> tuple[int, list[str]]:
    """The label issues as a review sample of the run (ledger review_samples/items)."""
    from datasteward.audit.label_review import LabelReviewOptions, label_issue_items
    from datasteward.errors import RecipeError
    from datasteward.ledger import Ledger
    from datasteward.runs.find import find_run

    run_dir = find_run(project, run)
    items, missing = label_issue_items(run_dir, found, LabelReviewOptions(source=source))
    if not items:
        raise RecipeError(
            f"none of the {len(found)} label issues is a record of run {run_dir.name} "
            f"(e.g. item {found[0].item!r})"
            if found
            else "no label issue to review",
            hint="record ids are SOURCE:ID for sources with an id_field: pass --source SOURCE",
        )
    spec = {
        "kind": "label_issues",
        "method": method,
        "files": [f.name for f in files],
        "source": source,
        "scores": {x.item: round(x.score, 6) for x in found},
    }
    with Ledger.open(project) as ledger:
        sid = ledger.record_sample(
            run_id=run_dir.name, name=f"label issues ({method})", spec=spec, items=items
        )
    return sid, missing


@annotations_app.command("labour")
def labour_cmd(
    files: list[Path] = FILES,
    item: str = ITEM,
    annotator: str = ANNOTATOR,
    label: str = LABEL,
    time_col: str | None = typer.Option(None, "--time-col", help="Seconds spent per label."),
    pay_col: str | None = typer.Option(None, "--pay-col", help="Payment per label."),
    minimum: float | None = typer.Option(None, "--minimum-wage", help="Declared hourly min."),
    as_json: bool = JSON,
) -> None:
    """People, hours, effective hourly pay (median, 10th percentile) against the declared
    minimum, and the share of labels from the top decile of annotators.

    Example: [bold]datasteward annotations labour labels.csv --time-col secs --pay-col usd[/]"""
    from datasteward.annotations.labour import LabourOptions, labour

    ls = _load(files, item, annotator, label, time_s=time_col, pay=pay_col)
    rep = labour(
        ls.items,
        ls.annotators,
        ls.extra.get("time_s"),
        ls.extra.get("pay"),
        LabourOptions(minimum_hourly_wage=minimum),
    )
    data = dataclasses.asdict(rep)
    if as_json:
        print_data_json(data)
        return
    for k, v in data.items():
        if k != "options":
            console.print(f"{k.replace('_', ' ')}: {v}")


def _record_method(project: Path, method: str, files: list[Path], agg: Any, by: str) -> int:
    """The aggregation method is a decision: recorded in the hash-chained ledger."""
    from datasteward.ledger import Ledger
    from datasteward.recipe import load_recipe
    from datasteward.recipe.model import RECIPE_FILE

    recipe_path = project / RECIPE_FILE
    recipe = load_recipe(recipe_path) if recipe_path.exists() else None
    low = sum(1 for c in agg.confidence if c < 0.5)
    with Ledger.open(project) as ledger:
        d = ledger.record_decision(
            title=f"Aggregate annotations with {method}",
            rationale=(
                f"{len(agg.items)} items from {', '.join(f.name for f in files)}; "
                f"{low} items with confidence under 0.5 go to review"
            ),
            tradeoff=None,
            by=by,
            recipe_hash=recipe.hash if recipe is not None else None,
        )
    return int(d.decision_id)


def register(app: typer.Typer) -> None:
    app.add_typer(annotations_app, name="annotations")
