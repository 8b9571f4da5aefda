"""``decide``, ``log`` and ``log verify``: stewards' decisions and the tamper-evident ledger."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from datasteward.cli._common import ProjectOption, console, err_console
from datasteward.recipe.model import RECIPE_FILE, load_recipe

#: Exit code of ``log verify`` when the ledger was tampered with (see cli/main.py).
EXIT_CHECK_FAILED = 3


def decide(
    title: str = typer.Argument(..., help="What was decided, in one line."),
    rationale: str = typer.Option(..., "--rationale", "-r", help="Why."),
    tradeoff: str | None = typer.Option(
        None, "--tradeoff", "-t", help="What it costs, and who bears it."
    ),
    by: str = typer.Option(..., "--by", help="Who decided (a steward's name)."),
    project: Path = ProjectOption,
) -> None:
    """Record a steward's decision, with the current recipe's hash.

    A decision recorded after the last successful run explains the recipe changes since that
    run (`datasteward status` shows them; a release refuses unexplained ones).

    Example: [bold]datasteward decide "Raise min_words to 100" --rationale "short pages were
    menus" --tradeoff "loses short poems" --by "Ana Ruiz"[/]
    """
    from datasteward.ledger import Ledger, recipe_changes

    recipe_path = project / RECIPE_FILE
    recipe = load_recipe(recipe_path) if recipe_path.exists() else None
    with Ledger.open(project) as ledger:
        decision = ledger.record_decision(
            title=title,
            rationale=rationale,
            tradeoff=tradeoff,
            by=by,
            recipe_hash=recipe.hash if recipe is not None else None,
        )
        changes = recipe_changes(ledger, recipe.canonical(), recipe.hash) if recipe else []
    what = f"recipe {recipe.hash[:12]}" if recipe is not None else f"no recipe (none in {project})"
    console.print(
        f"Recorded decision [bold]#{decision.decision_id}[/] by {escape(decision.by)} for {what}."
    )
    if changes:
        console.print(
            f"It explains {len(changes)} recipe change(s) since run "
            f"{escape(changes[0].baseline_run)}:"
        )
        for change in changes:
            console.print(f"  • {escape(change.text)}")


def log(
    ctx: typer.Context,
    project: Path = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),  # noqa: FBT001
    limit: int = typer.Option(20, "--limit", help="How many runs (and events) to show."),
    show_events: bool = typer.Option(  # noqa: FBT001
        False, "--events", help="Show the hash-chained event log instead."
    ),
) -> None:
    """Show who decided what, when and why, and the runs.

    Example: [bold]datasteward log --project my-dataset[/]   (then: [bold]datasteward log verify[/])
    """
    if ctx.invoked_subcommand is not None:
        return
    from datasteward.ledger import Ledger

    with Ledger.open(project, read_only=True) as ledger:
        if show_events:
            _print_events(ledger.events(limit=limit), as_json=as_json)
            return
        decisions = ledger.list_decisions()
        runs = ledger.list_runs(limit=limit)
        head_seq, head_hash = ledger.head()
    if as_json:
        out = {
            "decisions": [d.as_dict() for d in decisions],
            "runs": [_run_json(r) for r in runs],
            "head": {"seq": head_seq, "hash": head_hash},
        }
        console.print_json(json.dumps(out, default=str))
        return
    if decisions:
        console.print("[bold]Decisions[/]")
        for d in decisions:  # like `git log`: free text reads better as lines than in cells
            recipe = f"recipe {d.recipe_hash[:12]}" if d.recipe_hash else "no recipe"
            console.print(
                f"[bold]#{d.decision_id}[/]  {d.decided_at:%Y-%m-%d %H:%M} UTC  "
                f"[bold]{escape(d.by)}[/]  ({recipe})"
            )
            console.print(f"    {escape(d.title)}", style="bold")
            console.print(f"    why: {escape(d.rationale)}")
            if d.tradeoff:
                console.print(f"    trade-off: {escape(d.tradeoff)}")
    else:
        console.print('No decisions yet. Record one with [bold]datasteward decide "TITLE" ...[/]')
    if runs:
        table = Table(title="Runs", title_justify="left", box=box.SIMPLE_HEAD)
        numeric = ("in", "kept", "removed")
        table.add_column("run", no_wrap=True, min_width=min(40, max(len(r.run_id) for r in runs)))
        for col in ("status", "started (UTC)", *numeric):
            table.add_column(col, justify="right" if col in numeric else "left", no_wrap=True)
        for r in runs:
            table.add_row(
                escape(r.run_id),
                r.status,
                f"{r.started_at:%m-%d %H:%M}",
                _count(r.records_in),
                _count(r.kept),
                _count(r.removed),
            )
        console.print(table)
    console.print(
        f"Ledger head: event #{head_seq} {head_hash[:16]}… (check it: datasteward log verify)"
    )


def verify(
    project: Path = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),  # noqa: FBT001
    anchor: str | None = typer.Option(
        None,
        "--anchor",
        help="A head hash recorded elsewhere earlier; it must still be in the chain.",
    ),
) -> None:
    """Recompute the ledger's event chain and check every table against it.

    Exits 0 when intact; 3, with one line naming the first altered or removed event, otherwise.

    Example: [bold]datasteward log verify --project my-dataset[/]
    """
    from datasteward.ledger import Ledger

    # verify runs SQLite's integrity check itself and reports a damaged file (exit 3)
    with Ledger.open(project, check_integrity=False, read_only=True) as ledger:
        result = ledger.verify(anchor=anchor)
        from datasteward.release.consumer.ledger_check import check_history, check_ledger_releases

        releases = check_ledger_releases(project, ledger)
        releases.history.extend(check_history(project, ledger))
    if as_json:
        console.print_json(
            json.dumps({**result.as_dict(), "releases": releases.as_dict()}, default=str)
        )
    elif result.ok and releases.history:
        console.print(
            f"Ledger chain consistent ({result.checked} events), but it does not account for "
            "what the project holds:",
            soft_wrap=True,
        )
    elif result.ok:
        console.print(
            f"Ledger intact: {result.checked} events and {result.rows_checked} rows check out; "
            f"head #{result.head_seq} {result.head_hash}",
            soft_wrap=True,
        )
    else:
        where = ""
        if result.first_bad is not None:
            where = f" ({result.first_bad.type}, {result.first_bad.at:%Y-%m-%d %H:%M:%S} UTC)"
        elif result.first_bad_seq is not None:
            where = " (removed)"
        named = f"event #{result.first_bad_seq}{where}" if result.first_bad_seq else "the ledger"
        err_console.print(
            f"[bold red]ledger tampered:[/] first bad: {escape(named)}: {escape(result.problem)}",
            highlight=False,
            soft_wrap=True,
        )
    if not as_json:
        for problem in releases.history:
            err_console.print(
                f"[bold red]ledger incomplete:[/] {escape(problem)}",
                highlight=False,
                soft_wrap=True,
            )
        for problem in releases.problems:
            err_console.print(
                f"[bold red]release changed:[/] {escape(problem)}", highlight=False, soft_wrap=True
            )
        if releases.ok and releases.checked:
            console.print(
                f"Releases: {len(releases.checked)} release(s) have the manifest the ledger "
                "recorded" + (f" ({len(releases.absent)} not here)" if releases.absent else "")
            )
    if not result.ok or not releases.ok:
        # SystemExit, not typer.Exit: the latter is swallowed in non-standalone mode.
        sys.exit(EXIT_CHECK_FAILED)


def _print_events(events: list[Any], *, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps([e.as_dict() for e in events], default=str))
        return
    table = Table(title="Events (newest last)", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column("event")
    table.add_column("hash", no_wrap=True)
    for e in events:
        what = e.summary.split(" ", 1)[1] if " " in e.summary else e.type
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", escape(what), e.hash[:12])
    console.print(table)


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _run_json(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = r.as_dict()
    out.pop("recipe_text", None)
    out.pop("recipe_canonical", None)
    return out


def register(app: typer.Typer) -> None:
    app.command("decide")(decide)
    log_app = typer.Typer(no_args_is_help=False)  # help: the docstring of `log`
    log_app.callback(invoke_without_command=True)(log)
    log_app.command("verify")(verify)
    app.add_typer(log_app, name="log")
