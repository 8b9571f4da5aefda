"""``release``, ``verify``, ``takedown`` and ``deprecate``: immutable, retractable releases."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from datasteward.cli._common import ProjectOption, console, err_console, human_bytes

#: Exit code of ``verify`` when a release does not match its manifest (see cli/main.py).
EXIT_CHECK_FAILED = 3


def release(
    version: str = typer.Argument(..., help="Semantic version of the release, e.g. 1.0.0."),
    run: str | None = typer.Option(
        None, "--run", help="The run to release (default: newest finished)."
    ),
    draft: bool = typer.Option(
        False, "--draft", help="Release even with datasheet answers missing."
    ),
    max_shard_mb: int = typer.Option(
        512, "--max-shard-mb", min=1, help="Largest data shard, in MB."
    ),
    project: Path = ProjectOption,
) -> None:
    """Write releases/VERSION/: data shards, manifest, documents. Never overwrites a release.

    Data changes make a minor or major version; patches are made by `takedown apply`.

    Example: [bold]datasteward release 1.0.0 --project demo/news[/]
    """
    from datasteward.release.build import make_release
    from datasteward.release.gate import release_gate

    result = make_release(
        project,
        version,
        run=run,
        draft=draft,
        max_shard_bytes=max_shard_mb * 1024 * 1024,
        check=None if draft else release_gate,
    )
    data = result.manifest.data_files()
    console.print(
        f"Released [bold]{escape(result.version)}[/]: {result.records:,} records in "
        f"{len(data)} shard(s), {human_bytes(sum(f.bytes for f in data))} → {escape(str(result.path))}"
    )
    for name in ("datasheet.md", "README.md", "croissant.json", "CHANGELOG.md"):
        if (result.path / name).exists():
            console.print(f"  {name:<15} {escape(str(result.path / name))}")


def verify(
    directory: Path = typer.Argument(..., help="A release directory (holds manifest.json)."),
) -> None:
    """Check a release against its manifest: every file's sha256, size, rows and schema.

    Exit code 0 if it verifies, 3 if not (each problem names the file).

    Example: [bold]datasteward verify releases/1.0.0[/]
    """
    from datasteward.release.verify import verify_release

    report = verify_release(directory)
    for notice in report.notices:
        console.print(f"[yellow]notice:[/] {escape(notice)}")
    if not report.ok:
        for problem in report.problems:
            err_console.print(f"[bold red]FAIL[/] {escape(problem)}")
        sys.exit(EXIT_CHECK_FAILED)
    console.print(
        f"[green]OK[/] release {escape(report.version or '?')}: "
        f"{report.files_checked} files match the manifest."
    )


def register(app: typer.Typer) -> None:
    app.command("release")(release)
    app.command("verify")(verify)
    _ = Table  # tables are used by the takedown commands
