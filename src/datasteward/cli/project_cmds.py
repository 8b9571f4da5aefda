"""``init``, ``run``, ``status`` and ``inspect``: the core commands."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from datasteward.cli._common import (
    ProjectOption,
    console,
    human_bytes,
    human_seconds,
    load_project_recipe,
    print_data_json,
    term,
    term_text,
)
from datasteward.errors import DatastewardError, RunError
from datasteward.records.schema import PROVENANCE_COLUMNS
from datasteward.runs.find import find_run, newest_finished_id
from datasteward.runs.layout import RunLayout
from datasteward.runs.stats import RunStats

TEMPLATES = ("web-text",)


def init(
    directory: Path = typer.Argument(..., help="The project folder to create (or fill)."),
    template: str = typer.Option("web-text", "--template", "-t", help="Starting recipe: web-text."),
    name: str | None = typer.Option(
        None, "--name", help="Dataset name (default: the folder name)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing recipe."),
) -> None:
    """Create a project: a commented recipe and a datasheet skeleton.

    Example: [bold]datasteward init my-dataset --template web-text[/]
    """
    if template not in TEMPLATES:
        raise DatastewardError(
            f"unknown template {template!r}", hint="templates: " + ", ".join(TEMPLATES)
        )
    directory.mkdir(parents=True, exist_ok=True)
    recipe = directory / "datasteward.toml"
    if recipe.exists() and not force:
        raise DatastewardError(f"{recipe} exists already", hint="use --force to overwrite it")
    files = resources.files("datasteward.templates")
    ds_name = name or directory.resolve().name
    recipe.write_text(files.joinpath(f"{template}.toml").read_text().replace("{name}", ds_name))
    sheet = directory / "datasheet.toml"
    if not sheet.exists() or force:
        sheet.write_text(files.joinpath("datasheet.toml").read_text())
    (directory / "data").mkdir(exist_ok=True)
    console.print(f"Created [bold]{escape(str(recipe))}[/] and {escape(str(sheet))}.")
    console.print(
        "Next: put your input in data/, edit the recipe, then "
        f"[bold]datasteward run --project {escape(str(directory))} --estimate[/] to see the cost."
    )


def _progress_display() -> tuple[Progress, Any]:
    """The live display of a run: per segment, the input bytes read of the total (so one large
    file shows a percentage and an ETA), the records read and their rate; later segments,
    which read the run's own intermediate files, count shards."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[amount]}"),
        TextColumn("{task.fields[records]:,} records"),
        TextColumn("{task.fields[rate]:,.0f} rec/s"),
        TimeElapsedColumn(),
        TextColumn("ETA {task.fields[eta]}"),
        console=console,
        transient=False,
    )
    tasks: dict[int, Any] = {}
    last = [0.0]

    def update(p: Any) -> None:
        now = time.perf_counter()
        if p.segment not in tasks:
            desc = "reading + steps" if p.segment == 0 else f"segment {p.segment + 1}/{p.segments}"
            tasks[p.segment] = progress.add_task(
                desc, total=None, records=0, rate=0.0, amount="", eta="?"
            )
        elif now - last[0] < 0.1 and p.shards_done < p.shards_total:
            return
        last[0] = now
        if p.bytes_total:
            amount = f"{human_bytes(p.bytes_done)}/{human_bytes(p.bytes_total)}"
            total, completed = p.bytes_total, p.bytes_done
        else:
            amount = f"{p.shards_done}/{p.shards_total} shards"
            total, completed = p.shards_total, p.shards_done
        eta = p.eta_seconds
        progress.update(
            tasks[p.segment],
            total=total,
            completed=completed,
            records=p.records,
            rate=p.rate,
            amount=amount,
            eta="?" if eta is None else human_seconds(eta),
        )

    return progress, update


def _funnel_table(stats: RunStats, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("step")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    table.add_column("removed", justify="right")
    table.add_column("edited", justify="right")
    table.add_column("reasons")
    for s in stats.steps:
        reasons = ", ".join(
            f"{k} {v:,}" for k, v in sorted(s.reasons.items(), key=lambda kv: -kv[1])
        )
        table.add_row(
            term(s.step_id),
            f"{s.records_in:,}",
            f"{s.records_out:,}",
            f"{s.removed:,}",
            f"{s.edited:,}",
            term(reasons),
        )
    return table


def _print_estimate(est: dict[str, Any]) -> None:
    s, p = est["sample"], est["projected"]
    table = Table(title="Estimated cost of the whole run", title_justify="left")
    table.add_column("")
    table.add_column("measured on the sample", justify="right")
    table.add_column("projected for all input", justify="right")
    table.add_row(
        "input",
        f"{s['shards']}/{s['of_shards']} shards, {human_bytes(s['bytes'])}",
        human_bytes(p["input_bytes"]),
    )
    table.add_row("records in", f"{s['records']:,}", f"{p['records_in']:,}")
    table.add_row("records kept", f"{s['kept']:,}", f"{p['kept']:,}")
    table.add_row(
        "wall time",
        human_seconds(s["wall_seconds"]),
        f"{human_seconds(p['wall_seconds'])} on {p['workers']} workers",
    )
    table.add_row("CPU", human_seconds(s["cpu_seconds"]), f"{p['cpu_hours']:.3f} CPU-hours")
    table.add_row("output size", "", human_bytes(p["output_bytes"]))
    table.add_row("peak memory", "", human_bytes(p["peak_memory_bytes"]))
    console.print(table)
    console.print(f"[dim]{escape(est['method'])}[/]")


def run(
    project: Path = ProjectOption,
    recipe: Path | None = typer.Option(
        None, "--recipe", "-r", help="Recipe file (default PROJECT/datasteward.toml)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Worker processes (default: cores)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Resume the newest unfinished run (or --run-id)."
    ),
    run_id: str | None = typer.Option(None, "--run-id", help="With --resume: the run to resume."),
    strict: bool = typer.Option(
        False, "--strict", help="Fail on unreadable input instead of quarantining it."
    ),
    estimate: bool = typer.Option(
        False, "--estimate", help="Run on a sample and project the cost; write nothing."
    ),
    sample: float = typer.Option(
        0.02,
        "--sample",
        min=0.0001,
        max=1.0,
        help="With --estimate: share of input bytes to sample.",
    ),
    batch_size: int = typer.Option(2048, "--batch-size", min=1, help="Records per batch."),
    split_mb: float | None = typer.Option(
        None,
        "--split-mb",
        min=0.0,
        help="Split input files over this many MB into parts, one task each (JSON Lines, "
        "Parquet, .warc.gz; default: \\[run] split_mb, 64; 0: never). An input smaller than "
        "16 such parts is cut into about 16 tasks of at least 4 MB, so every worker stays "
        "busy to the end.",
    ),
    keep_work: bool = typer.Option(
        False, "--keep-work", help="Keep intermediate files of the run."
    ),
    executor: str | None = typer.Option(
        None,
        "--executor",
        help="local (worker processes here) or ray (a Ray cluster); default: \\[run] executor.",
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        help="With --executor ray: the cluster (auto, HOST:PORT, ray://HOST:PORT); "
        "default: \\[run] address, else Ray starts on this machine for the run.",
    ),
    output: str | None = typer.Option(
        None,
        "--output",
        help="Also copy the finished run to this URL (e.g. s3://bucket/runs): "
        "URL/RUN-ID/, credentials from the environment.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the run (or the estimate) as one JSON object; no progress display.",
    ),
) -> None:
    """Run the recipe: read the sources, apply the steps, write runs/<run-id>/.

    Examples:
      [bold]datasteward run[/]                      run the recipe in this folder
      [bold]datasteward run --estimate[/]           project time, CPU, memory and output size first
      [bold]datasteward run --resume[/]             finish a run that was interrupted
      [bold]datasteward run --split-mb 16[/]        one task per 16 MB of a large input file
      [bold]datasteward run --executor ray --address auto[/]  on the Ray cluster running here
      [bold]datasteward run --json[/]               the funnel and the paths, for a script
    """
    from datasteward.project import Project

    proj = Project.open(project, recipe=recipe)
    if estimate:
        if as_json:
            print_data_json(
                proj.estimate(
                    sample=sample, workers=workers, batch_size=batch_size, split_mb=split_mb
                )
            )
            return
        with console.status("Running the recipe on a sample of the input..."):
            est = proj.estimate(
                sample=sample, workers=workers, batch_size=batch_size, split_mb=split_mb
            )
        _print_estimate(est)
        return
    if run_id and not resume:
        raise RunError("--run-id is for --resume", hint="add --resume, or drop --run-id")
    how: dict[str, Any] = {
        "workers": workers,
        "batch_size": batch_size,
        "strict": strict,
        "keep_work": keep_work,
        "resume": run_id or resume,
        "split_mb": split_mb,
        "executor": executor,
        "address": address,
        "output": output,
    }
    if quiet or as_json:
        result = proj.run(**how)
    else:
        display, update = _progress_display()
        with display:
            result = proj.run(progress=update, **how)
    stats = result.run_stats
    rd = RunLayout(result.run_dir)
    if as_json:
        print_data_json(
            {
                "run_id": result.run_id,
                "run_dir": str(result.run_dir),
                "stats": stats.to_json(),
                "kept": str(rd.data),
                "trace": str(rd.trace),
                "removed": str(rd.removed),
                "quarantine": str(rd.quarantine) if stats.quarantined else None,
            }
        )
        return
    console.print(_funnel_table(stats, f"Run {term(result.run_id)}"))
    console.print(
        f"[bold]{stats.records_in or 0:,}[/] records in: [green]{stats.kept or 0:,} kept[/], "
        f"[red]{stats.removed or 0:,} removed[/], "
        f"[yellow]{stats.quarantined or 0:,} quarantined[/] "
        f"in {human_seconds(stats.wall_seconds or 0.0)} "
        f"({stats.cpu_seconds or 0.0:.1f} CPU-s, peak {human_bytes(stats.peak_memory_bytes or 0)})."
    )
    console.print(f"Kept records:   {escape(str(rd.data))}")
    console.print(
        f"Why removed:    {escape(str(rd.trace))}  (and the records in {escape(str(rd.removed))})"
    )
    if stats.quarantined:
        console.print(f"Unreadable:     {escape(str(rd.quarantine))}")
    console.print(
        "Next: [bold]datasteward status[/], [bold]datasteward removed[/] for what was removed, "
        "or [bold]datasteward inspect ID[/] for one record."
    )


def status(
    project: Path = ProjectOption,
    run_id: str | None = typer.Argument(None, help="A run (default: the newest finished)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    limit: int = typer.Option(10, "--limit", help="How many runs to list."),
) -> None:
    """Show the runs and the funnel of one: records in and out per step, and why.

    Example: [bold]datasteward status --json[/]
    """
    from datasteward.ledger import Ledger

    recipe = None
    try:
        recipe = load_project_recipe(project)
    except DatastewardError:
        recipe = None
    with Ledger.open(project, read_only=True) as ledger:
        runs = ledger.list_runs(limit=limit)
        # the run every command uses (datasteward.runs.find); before any run finished, the
        # newest the ledger knows (so a failed first run still shows its partial funnel)
        wanted = run_id or newest_finished_id(project)
        chosen = ledger.get_run(wanted) if wanted else None
        if chosen is None and not run_id:
            chosen = runs[0] if runs else None
        if run_id and chosen is None:
            raise RunError(
                f"no run {run_id!r} in the ledger", hint="`datasteward status` lists them"
            )
        estimate = ledger.latest_estimate(chosen.recipe_hash) if chosen is not None else None
        changes: list[Any] = []
        if recipe is not None:
            try:
                from datasteward.ledger import recipe_changes

                changes = recipe_changes(ledger, recipe.canonical(), recipe.hash)
            except ImportError:
                changes = []
    stats = None
    if chosen is not None:
        layout = RunLayout.of(project, chosen.run_id)
        stats = RunStats.read(layout.stats_json) if layout.stats_json.exists() else chosen.run_stats
    consent = _consent_summary(project, chosen.run_id) if chosen is not None else None
    from datasteward.erasure.records import takedown_summary

    takedowns = takedown_summary(project)
    if as_json:
        out = {
            "takedowns": takedowns,
            "runs": [_run_brief(r) for r in runs],
            "run": _run_brief(chosen) if chosen else None,
            "stats": stats.to_json() if stats is not None else None,
            "estimate": estimate,
            "consent": consent,
            "recipe_changes": [_change_json(c) for c in changes],
        }
        print_data_json(out)
        return
    if not runs:
        console.print("No runs yet. Start one with [bold]datasteward run[/].")
        return
    table = Table(title="Runs", title_justify="left")
    # the run id is what --run takes: never cut or wrapped, the other columns give way
    id_width = max(len(str(r.run_id)) for r in runs)
    table.add_column("run", no_wrap=True, min_width=id_width)
    for col in ("status", "started", "records in", "kept", "removed", "quarantined", "wall"):
        table.add_column(col, justify="right" if col not in ("status", "started") else "left")
    for r in runs:
        s = r.stats or {}
        table.add_row(
            term(r.run_id),
            term(r.status),
            term(str(r.started_at)[:19]),
            f"{s.get('records_in', 0):,}",
            f"{s.get('kept', 0):,}",
            f"{s.get('removed', 0):,}",
            f"{s.get('quarantined', 0):,}",
            human_seconds(s["wall_seconds"]) if s.get("wall_seconds") else "",
        )
    console.print(table)
    if stats and chosen is not None:
        console.print(_funnel_table(stats, f"Funnel of {term(chosen.run_id)}"))
        if estimate:
            _print_estimate_vs_measured(estimate, stats)
    if consent:
        console.print("Consent: " + ", ".join(f"{term(k)} {v:,}" for k, v in consent.items()))
    if takedowns:
        _print_takedowns(takedowns)
    if changes:
        ctable = Table(title="Recipe changes since the last successful run", title_justify="left")
        ctable.add_column("change")
        ctable.add_column("explained by")
        for c in changes:
            expl = getattr(c, "explained_by", None)
            ctable.add_row(
                term(getattr(c, "description", c)),
                term(expl) if expl else "[bold red]unexplained[/]",
            )
        console.print(ctable)
        if any(not getattr(c, "explained_by", None) for c in changes):
            console.print(
                'Record why with [bold]datasteward decide "TITLE" --rationale ... --by NAME[/]; '
                "a release refuses unexplained changes."
            )


def _print_takedowns(t: dict[str, Any]) -> None:
    console.print(
        f"Takedowns: {t['requests']} request(s) ("
        + ", ".join(f"{v} {term(k)}" for k, v in sorted(t["by_status"].items()))
        + f"); {t['erase']} erasing, {t['patch_only']} patch only; "
        f"{t['records_erased']} record(s) erased from the project"
        + (
            "; withdrawn releases: " + ", ".join(term(v) for v in t["withdrawn_releases"])
            if t["withdrawn_releases"]
            else ""
        )
        + "."
    )
    if t["records_erased"]:
        console.print(
            "  The run's funnel counts are from before the erasure; its files no longer hold "
            "the erased records."
        )
    for tid in t["unfinished_erasures"]:
        console.print(
            f"  [bold red]Unfinished erasure[/] of request #{tid}: run "
            "[bold]datasteward takedown apply --resume[/]."
        )


def _consent_summary(project: Path, run_id: str) -> dict[str, int] | None:
    layout = RunLayout.of(project, run_id)
    if not layout.parquet(layout.data):
        return None
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT consent, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 2 DESC",
            [layout.data_glob],
        ).fetchall()
    finally:
        con.close()
    return {str(k): int(v) for k, v in rows}


def _print_estimate_vs_measured(est: dict[str, Any], stats: RunStats) -> None:
    p = est["projected"]
    table = Table(title="Estimate beside what was measured", title_justify="left")
    table.add_column("")
    table.add_column("estimated", justify="right")
    table.add_column("measured", justify="right")
    table.add_row("records in", f"{p['records_in']:,}", f"{stats.records_in or 0:,}")
    table.add_row("kept", f"{p['kept']:,}", f"{stats.kept or 0:,}")
    table.add_row(
        "wall time", human_seconds(p["wall_seconds"]), human_seconds(stats.wall_seconds or 0.0)
    )
    table.add_row("CPU", f"{p['cpu_hours']:.4f} h", f"{(stats.cpu_seconds or 0.0) / 3600:.4f} h")
    table.add_row("output", human_bytes(p["output_bytes"]), human_bytes(stats.bytes_written or 0))
    table.add_row(
        "peak memory",
        human_bytes(p["peak_memory_bytes"]),
        human_bytes(stats.peak_memory_bytes or 0),
    )
    console.print(table)


def _run_brief(r: Any) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "status": r.status,
        "started_at": str(r.started_at),
        "finished_at": str(r.finished_at) if getattr(r, "finished_at", None) else None,
        "recipe_hash": r.recipe_hash,
        "datasteward_version": r.datasteward_version,
    }


def _change_json(c: Any) -> dict[str, Any]:
    if hasattr(c, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(c)
    return {"change": str(c)}


def inspect(
    record_id: str = typer.Argument(..., help="The record id (as in data/, removed/ or trace/)."),
    project: Path = ProjectOption,
    run_id: str | None = typer.Option(
        None, "--run", help="The run (default: the newest finished)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    show_text: int = typer.Option(500, "--text-chars", help="How much of the text to show."),
) -> None:
    """Show a record's provenance and everything that happened to it in a run.

    Example: [bold]datasteward inspect news:4f1c2a9e0b7d3c5a1e2f --json[/]
    """
    from datasteward.erasure.records import takedowns_of_record
    from datasteward.release.format.withdrawn import takedowns_of
    from datasteward.runs.records import inspect_record

    run_dir = find_run(project, run_id)
    erased = takedowns_of_record(project, record_id)  # erasing takedowns: never the value
    try:
        info = inspect_record(run_dir, record_id)
    except RunError:
        if not erased:
            raise
        info = {
            "run_id": run_dir.name,
            "outcome": "taken down and erased",
            "file": None,
            "record": {"id": record_id},
            "signals": {},
            "trace": [],
        }
    info["takedowns"] = takedowns_of(project, record_id)  # after release: never the requester
    info["erasure"] = erased
    if as_json:
        print_data_json(info)
        return
    if erased and info["file"] is None:
        _print_erased(record_id, erased)
        return
    rec = info["record"]
    console.print(
        f"[bold]{term(record_id)}[/] in run {term(info['run_id'])}: "
        f"[bold]{term(info['outcome'])}[/]"
    )
    table = Table(show_header=False)
    for key in PROVENANCE_COLUMNS[1:]:  # the id is in the heading
        table.add_row(key, term(rec.get(key)))
    console.print(table)
    if info["trace"]:
        t = Table(title="What happened", title_justify="left")
        for col in ("step", "action", "reason", "value", "threshold", "dup_of", "detail"):
            t.add_column(col)
        for row in info["trace"]:
            t.add_row(
                *(
                    term("" if row[c] is None else row[c])
                    for c in ("step", "action", "reason", "value", "threshold", "dup_of", "detail")
                )
            )
        console.print(t)
    elif info.get("takedowns"):
        console.print("No step of the run removed or edited it; it was taken down after release.")
    else:
        console.print("No step removed or edited it.")
    for t in info.get("takedowns", []):  # releases, dates and request ids; never the requester
        console.print(
            f"[bold]Taken down[/] in release {term(t['release'])} ({term(t['at'])}), "
            f"takedown request {', '.join('#' + term(i) for i in t['takedown_ids'])}: "
            f"withdrawn from {', '.join(term(v) for v in t['withdrawn_from'])}."
        )
    text = rec.get("text") or ""
    console.print(
        term_text(text[:show_text]) + ("…" if len(text) > show_text else ""),
        style="dim",
        markup=True,
        highlight=False,
        emoji=False,
    )


def _print_erased(record_id: str, erased: list[dict[str, Any]]) -> None:
    """What the ledger keeps of a record a takedown erased (its text and URL are gone)."""
    console.print(f"[bold]{term(record_id)}[/]: [bold red]taken down and erased[/]")
    for t in erased:
        patches = ", ".join(f"{term(k)} → {term(v)}" for k, v in t["patch_releases"].items())
        console.print(
            f"Takedown request [bold]#{t['takedown_id']}[/] ({term(t['kind'])}, matched by "
            f"{term(t['matched_by'])}, received {term(str(t['received_at'])[:19])}, "
            f"{term(t['status'])}): decision [bold]{term(t['decision'])}[/] "
            f"({term(t['policy'])})."
        )
        console.print(f"  patch release: {patches or 'none needed'}")
        console.print(
            "  withdrawn releases (tombstones): "
            + (", ".join(term(v) for v in t["withdrawn_releases"]) or "none")
        )
        console.print(
            f"  erased from {len(t['files_rewritten'])} file(s) ({t['rows_erased']:,} rows or "
            f"passages), {len(t['files_deleted'])} file(s) deleted"
            + (f", last on {term(str(t['erased_at'])[:19])}" if t["erased_at"] else "")
            + (
                ""
                if t["erasure_finished"]
                else " — [bold red]unfinished[/]: run [bold]datasteward takedown apply --resume[/]"
            )
        )
        for place in t["files_rewritten"][:20]:
            console.print(f"    {term(place)}", highlight=False)
    console.print(
        "Its text and URL are gone from the project; the ledger keeps its id and hashes "
        "(prove it: [bold]datasteward takedown verify N[/])."
    )


def removed(
    project: Path = ProjectOption,
    run_id: str | None = typer.Option(
        None, "--run", help="The run (default: the newest finished)."
    ),
    step: str | None = typer.Option(
        None, "--step", "-s", help="Only this step: its id (s02-filter.length) or name."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Only this reason (too_short...)."),
    limit: int = typer.Option(50, "--limit", "-n", min=0, help="Records listed (all are counted)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the records a run removed: which step, why, the measured value and threshold.

    Examples:
      [bold]datasteward removed[/]          the first 50, with the counts per step and reason
      [bold]datasteward removed --step filter.length --limit 10[/]
      [bold]datasteward removed --reason duplicate --json[/]
    Then [bold]datasteward inspect ID[/] shows one record in full.
    """
    from datasteward.runs.removed import removed_records

    run_dir = find_run(project, run_id)
    result = removed_records(run_dir, step=step, reason=reason, limit=limit)
    if as_json:
        print_data_json(result.to_json())
        return
    counts = Table(title=f"Removed in run {term(result.run_id)}", title_justify="left")
    counts.add_column("step", no_wrap=True)
    counts.add_column("reason")
    counts.add_column("records", justify="right")
    for row in result.by_reason:
        counts.add_row(term(row["step"]), term(row["reason"]), f"{row['records']:,}")
    if not result.total:
        console.print(f"Run {term(result.run_id)} removed no record" + _filters(step, reason) + ".")
        return
    console.print(counts)
    table = Table(
        title=f"{len(result.records):,} of {result.total:,} removed records", title_justify="left"
    )
    table.add_column("id", no_wrap=True, overflow="fold")
    for col in ("step", "reason", "value", "threshold", "url"):
        table.add_column(col, overflow="fold")
    for r in result.records:
        table.add_row(
            term(r["id"]),
            term(r["step"]),
            term(r["reason"]),
            "" if r["value"] is None else f"{r['value']:g}",
            "" if r["threshold"] is None else f"{r['threshold']:g}",
            term(r["url"] or r["dup_of"] or ""),
        )
    console.print(table)
    if result.total > len(result.records):
        console.print(f"... and {result.total - len(result.records):,} more (--limit).")


def _filters(step: str | None, reason: str | None) -> str:
    return (f" by step {term(step)}" if step else "") + (f" for {term(reason)}" if reason else "")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(run)
    app.command()(status)
    app.command()(inspect)
    app.command()(removed)
