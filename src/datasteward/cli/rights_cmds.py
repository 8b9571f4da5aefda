"""Rights commands: ``check``, ``notice``, ``suppress add|list`` and ``rights license|consent``.

Exit codes: 0 ok, 1 error, 3 ``check`` found violations that no decision accepts.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from datasteward.recipe.model import RECIPE_FILE, Recipe, load_recipe
from datasteward.runs.layout import RunLayout

console = Console()

_PROJECT = typer.Option(
    Path("."),
    "--project",
    "-p",
    help="The project folder (holds datasteward.toml).",
    file_okay=False,
)
_RUN = typer.Option(
    None, "--run", "-r", help="Run id (folder under runs/) or path; default: newest finished run."
)


def _recipe(project: Path, run_dir: Path | None = None) -> Recipe:
    """The project's recipe, else the copy the run kept."""
    path = project / RECIPE_FILE
    if not path.exists() and run_dir is not None and RunLayout(run_dir).recipe_toml.exists():
        path = RunLayout(run_dir).recipe_toml
    return load_recipe(path)


def check(
    project: Path = _PROJECT,
    run: str | None = _RUN,
    as_json: bool = typer.Option(False, "--json", help="Print the violations as JSON."),  # noqa: FBT001 - typer options
) -> None:
    """List the kept records that violate the recipe's \\[policy], by source and licence.

    Exits 3 if any violation is not accepted by a decision (\\[policy] accept).

    Example: [bold]datasteward check --run 20260101-120000 --json[/]
    """
    from datasteward.rights.policy_check import check as run_check
    from datasteward.runs.find import find_run

    run_dir = find_run(project, run)
    violations = run_check(run_dir, _recipe(project, run_dir), project_dir=project)
    open_ = [v for v in violations if v.accepted is None]
    if as_json:
        typer.echo(
            json.dumps(
                {"run": run_dir.name, "violations": [v.as_dict() for v in violations]}, indent=2
            )
        )
    elif not violations:
        console.print(f"[green]ok[/]: run {escape(run_dir.name)} meets the policy.")
    else:
        table = Table(title=f"Policy violations in run {escape(run_dir.name)}")
        for col in ("source", "license", "rule", "records", "why", "accepted by decision"):
            table.add_column(
                col,
                justify="right" if col == "records" else "left",
                no_wrap=col in ("rule", "license", "source"),
            )
        for v in violations:
            table.add_row(
                escape(v.source),
                escape(v.license),
                v.rule,
                str(v.records),
                escape(v.why),
                escape(v.accepted or ""),
            )
        console.print(table)
        if open_:
            console.print(
                f"{sum(v.records for v in open_)} records in {len(open_)} open violation(s); "
                "resolve with a `rights.policy` step or an accepted decision in "
                "\\[\\[policy.accept]]."
            )
        else:
            console.print(
                f"[green]ok[/]: every violation is accepted by a decision ({len(violations)})."
            )
    if open_:
        # SystemExit, not typer.Exit: click returns (drops) Exit codes when the entry point
        # runs the app with standalone_mode=False
        raise SystemExit(3)


def notice(
    out: Path = typer.Option(..., "--out", "-o", help="Where to write NOTICE.md."),  # noqa: B008
    project: Path = _PROJECT,
    run: str | None = _RUN,
    max_creators: int = typer.Option(200, help="Creator lines per (licence, source)."),
    max_uris: int = typer.Option(3, help="Example source URLs per creator."),
) -> None:
    """Write the attribution NOTICE for a run: who to credit and where the works came from.

    Example: [bold]datasteward notice --out NOTICE.md[/]
    """
    from datasteward.rights.notice import write_notice
    from datasteward.runs.find import find_run

    run_dir = find_run(project, run)
    dataset = None
    if (project / RECIPE_FILE).exists():
        dataset = load_recipe(project / RECIPE_FILE).dataset.name
    path = write_notice(run_dir, out, dataset=dataset, max_creators=max_creators, max_uris=max_uris)
    console.print(f"Wrote {escape(str(path))}.")


suppress_app = typer.Typer(help="The suppression list: what must never enter the dataset.")


@suppress_app.command("add")
def suppress_add(
    reason: str = typer.Option(..., "--reason", help="Why (a takedown request, a law...)."),
    by: str = typer.Option(..., "--by", help="Who asked for or decided it."),
    id_: str | None = typer.Option(None, "--id", help="A record id (source:value)."),
    url: str | None = typer.Option(None, "--url", help="A page URL (normalised)."),
    domain: str | None = typer.Option(None, "--domain", help="A domain and its subdomains."),
    sha256: str | None = typer.Option(None, "--sha256", help="A content_sha256."),
    project: Path = _PROJECT,
) -> None:
    """Add an entry to the suppression list (append-only, with who/why/when).

    Example: [bold]datasteward suppress add --domain example.com --reason "takedown #12" --by ana[/]
    """
    from datasteward.errors import DatastewardError
    from datasteward.rights.suppression import SuppressionList

    given = [
        (k, v)
        for k, v in (("id", id_), ("url", url), ("domain", domain), ("sha256", sha256))
        if v is not None
    ]
    if len(given) != 1:
        raise DatastewardError(
            "give exactly one of --id, --url, --domain, --sha256",
            hint="add several entries with several commands",
        )
    kind, value = given[0]
    entry = SuppressionList.add(project, kind=kind, value=value, reason=reason, by=by)
    console.print(f"Suppressed {kind} [bold]{escape(entry.value)}[/] ({escape(entry.at)}).")


@suppress_app.command("list")
def suppress_list(
    project: Path = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print the entries as JSON."),  # noqa: FBT001 - typer options
) -> None:
    """Show the suppression list.

    Example: [bold]datasteward suppress list --json[/]
    """
    from dataclasses import asdict

    from datasteward.rights.suppression import SuppressionList

    sl = SuppressionList.load(project)
    if as_json:
        typer.echo(json.dumps([asdict(e) for e in sl], indent=2, ensure_ascii=False))
        return
    if not len(sl):
        console.print("The suppression list is empty.")
        return
    table = Table(title=f"Suppression list ({len(sl)} entries)")
    for col in ("kind", "value", "reason", "by", "at"):
        table.add_column(col)
    for e in sl:
        table.add_row(e.kind, escape(e.value), escape(e.reason), escape(e.by), e.at)
    console.print(table)


rights_app = typer.Typer(help="Licences and consent: normalise, classify, summarise.")


@rights_app.command("license")
def rights_license(
    value: str = typer.Argument(..., help="A licence string, URL or SPDX expression."),
    version: str | None = typer.Option(None, "--version", help="A separate version column."),
) -> None:
    """Normalise a licence string to SPDX and classify it.

    Example: [bold]datasteward rights license by-nc --version 2.0[/]
    """
    from datasteward.rights.licenses import normalize_license
    from datasteward.rights.terms import classify

    res = normalize_license(value, version)
    terms = classify(res.spdx)
    typer.echo(json.dumps({**terms.as_dict(), "evidence": res.evidence()}, indent=2))


@rights_app.command("consent")
def rights_consent(
    project: Path = _PROJECT,
    run: str | None = _RUN,
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),  # noqa: FBT001 - typer options
) -> None:
    """Records per consent value and source in a run.

    Example: [bold]datasteward rights consent --run 20260101-120000[/]
    """
    from datasteward.rights.consent import consent_summary
    from datasteward.runs.find import find_run

    run_dir = find_run(project, run)
    counts = consent_summary(run_dir)
    if as_json:
        typer.echo(json.dumps([c.__dict__ for c in counts], indent=2))
        return
    table = Table(title=f"Consent in run {escape(run_dir.name)}")
    for col in ("source", "consent", "records"):
        table.add_column(col, justify="right" if col == "records" else "left")
    for c in counts:
        table.add_row(escape(c.source), escape(c.consent), str(c.records))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("notice")(notice)
    app.add_typer(suppress_app, name="suppress")
    app.add_typer(rights_app, name="rights")
