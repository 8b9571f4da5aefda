"""Collection commands: ``collect pages`` (the polite crawler; ``collect images`` joins here).

Exit codes: 0 ok (failed URLs are counted, not fatal), 1 error (bad recipe, no such table),
130 interrupted (the crawl resumes where it stopped when run again).
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


@collect_app.command("pages")
def pages(
    project: Path = ProjectOption,
    name: str | None = typer.Option(
        None, "--name", "-n", help="The \\[\\[collect]] table (needed when there are several)."
    ),
    stop_after: int | None = typer.Option(
        None, "--stop-after", help="Stop after this many URLs (run again to go on).", min=1
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Crawl the pages of a \\[\\[collect]] table into WARC files under collect/NAME/.

    Obeys robots.txt for its own agent and for the AI-training agents listed, waits between
    requests to a host, and records per URL the robots decision, X-Robots-Tag, meta robots,
    TDMRep and ai.txt. Killed or interrupted, it resumes where it stopped when run again.

    Example: [bold]datasteward collect pages --project my-dataset --name news[/]
    """
    from rich.live import Live

    from datasteward.collect.pages import PageCrawl
    from datasteward.collect.progress import CrawlProgress

    cfg = collect_config(project, name, "pages")
    live = (
        Live(console=err_console, refresh_per_second=4, transient=True)
        if err_console.is_terminal
        else None
    )

    def show(p: CrawlProgress) -> None:
        if live is not None:
            live.update(f"[bold]{term(cfg.name)}[/]: {term(p.line())}")

    crawl = PageCrawl(project, cfg, on_progress=show)
    if live is not None:
        with live:
            summary = crawl.run(stop_after=stop_after)
    else:
        summary = crawl.run(stop_after=stop_after)
    if as_json:
        print_data_json(
            {
                "name": summary.name,
                "folder": str(summary.folder),
                "warc_parts": list(summary.warc_parts),
                "states": summary.states,
                "outcomes": summary.outcomes,
                "progress": summary.progress,
            }
        )
        return
    p = summary.progress
    console.print(
        f"[bold]{term(cfg.name)}[/]: {p['done']} URLs in {p['seconds']:.1f} s "
        f"({p['urls_per_second']:.1f}/s), {p['written']} pages written, "
        f"{human_bytes(p['bytes'])} received"
    )
    for outcome, n in sorted(summary.outcomes.items(), key=lambda kv: -kv[1]):
        console.print(f"  {term(outcome)}: {n}")
    pending = summary.states.get("pending", 0)
    if pending:
        console.print(f"  {pending} URLs still pending: run the command again to go on")
    console.print(f"WARC: {term(summary.folder / 'warc')} ({len(summary.warc_parts)} parts)")


def register(app: typer.Typer) -> None:
    from datasteward.cli import collect_images_cmd  # noqa: F401 - adds `collect images`

    app.add_typer(collect_app, name="collect")
