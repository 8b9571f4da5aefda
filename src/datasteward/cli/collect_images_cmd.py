"""``datasteward collect images``: download an image URL + caption list into WebDataset shards.

Joins the ``collect`` group (:mod:`datasteward.cli.collect_app`). Exit codes: 0 ok (failed
URLs are counted, not fatal), 1 error (bad recipe, no such table, unreadable URL list), 130
interrupted (finished shards are kept; the next run does the others).
"""

from __future__ import annotations

from pathlib import Path

import typer

from datasteward.cli._common import (
    ProjectOption,
    console,
    err_console,
    human_bytes,
    print_data_json,
    term,
)
from datasteward.cli.collect_app import collect_app, collect_config


@collect_app.command("images")
def images(
    project: Path = ProjectOption,
    name: str | None = typer.Option(
        None, "--name", "-n", help="The \\[\\[collect]] table (needed when there are several)."
    ),
    shards: int | None = typer.Option(
        None, "--shards", help="Do at most this many shards now (run again to go on).", min=1
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Download the image URL list of a \\[\\[collect]] table into WebDataset shards.

    The table has kind = "images"; the shards go under collect/NAME/ (NNNNN.tar with its
    NNNNN.parquet index, and index.parquet for all rows).

    Obeys robots.txt for its own agent and the AI-training agents listed, tdmrep.json, ai.txt,
    and X-Robots-Tag noai / noimageai / noindex / noimageindex and tdm-reservation on the
    image; waits between requests to a host. Images are verified, resized and stored without
    EXIF; each sample's JSON keeps the URL, caption, HTTP status and headers, redirects,
    signals, licence fields, sha256 of the original and a perceptual hash. Failures are
    counted by reason. Killed or interrupted, it resumes with the unfinished shards.

    Read the shards into a run with a source: format = "webdataset", path =
    "collect/NAME/*.tar".

    Example: [bold]datasteward collect images --project my-dataset --name laion-sample[/]
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from datasteward.collect.images import collect_images, job_from_config

    cfg = collect_config(project, name, "images")
    job = job_from_config(cfg, project)
    progress = Progress(
        TextColumn(f"[bold]{term(cfg.name)}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[ok]:,} kept, {task.fields[failed]:,} not"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    counts = {"ok": 0, "failed": 0}
    task = progress.add_task("images", total=None, ok=0, failed=0)

    def show(outcome: str, n: int) -> None:
        counts["ok" if outcome == "success" else "failed"] += n
        progress.update(task, advance=n, ok=counts["ok"], failed=counts["failed"])

    with progress:
        summary = collect_images(
            job,
            progress=show,
            limit_shards=shards,
            on_start=lambda rows: progress.update(task, total=rows),
        )
    if as_json:
        print_data_json(summary.to_json())
        return
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    console.print(
        f"[bold]{term(cfg.name)}[/]: {summary.rows} URLs in {summary.seconds:.1f} s "
        f"({rate:.1f}/s): {summary.success} images kept, {human_bytes(summary.fetched_bytes)} "
        f"received in {summary.requests} requests"
    )
    for reason, n in sorted(summary.failures.items(), key=lambda kv: -kv[1]):
        console.print(f"  {term(reason)}: {n}")
    done = summary.shards_done_before
    console.print(
        f"shards: {summary.shards} ({done} finished before this run); all finished shards "
        f"hold {summary.total_success} of {summary.total_rows} rows as images"
    )
    left = summary.shards - len(list(job.output.glob("*_stats.json")))
    if left:
        console.print(f"  {left} shards still to do: run the command again to go on")
    console.print(f"WebDataset: {term(job.output)} (index: {term(job.output / 'index.parquet')})")
