"""``release``, ``verify``, ``takedown`` and ``deprecate``: immutable, retractable releases."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from datasteward.cli._common import (
    ProjectOption,
    console,
    err_console,
    human_bytes,
    print_data_json,
)

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
    links_only: bool = typer.Option(
        False,
        "--links-only",
        help="Publish URLs, content hashes and metadata instead of the content "
        "(users fetch the pages with `datasteward fetch`).",
    ),
    output: str | None = typer.Option(
        None,
        "--output",
        help="Also publish the release to this URL (e.g. s3://bucket/releases): URL/VERSION/, "
        "its manifest last; credentials from the environment. A release made already is "
        "published as it is (again finishes an interrupted copy).",
    ),
    project: Path = ProjectOption,
    as_json: bool = typer.Option(
        False, "--json", help="Print the release (version, path, records, files) as JSON."
    ),
) -> None:
    """Write releases/VERSION/: data shards, manifest, documents. Never overwrites a release.

    Data changes make a minor or major version; patches are made by `takedown apply`.
    With --links-only, records without an http(s) URL or edited by a step are left out
    (and counted).

    Examples:
      [bold]datasteward release 1.0.0 --project demo/news[/]
      [bold]datasteward release 1.1.0 --links-only --json[/]
      [bold]datasteward release 1.0.0 --output s3://bucket/releases[/]
    """
    from datasteward.release.build.make import make_release
    from datasteward.release.consumer.object_store import publish_release
    from datasteward.release.documents.gate import release_gate
    from datasteward.release.format.manifest import MANIFEST
    from datasteward.release.format.project import releases_dir

    made = releases_dir(project) / version
    if output and (made / MANIFEST).is_file():
        where, copied = publish_release(made, output)
        if as_json:
            print_data_json({"version": version, "path": str(made), "published": where})
        else:
            console.print(
                f"Release {escape(version)} exists already ({escape(str(made))}): published "
                f"as it is → {escape(where)}/ ({copied} file(s) copied)"
            )
        return
    result = make_release(
        project,
        version,
        run=run,
        draft=draft,
        max_shard_bytes=max_shard_mb * 1024 * 1024,
        check=None if draft else release_gate,
        links_only=links_only,
    )
    published = publish_release(result.path, output)[0] if output else None
    data = result.manifest.data_files()
    links = result.manifest.links or {}
    no_url, edited = links.get("excluded_without_url", 0), links.get("excluded_edited", 0)
    documents = {
        name: str(result.path / name)
        for name in ("datasheet.md", "README.md", "croissant.json", "CHANGELOG.md")
        if (result.path / name).exists()
    }
    if as_json:
        print_data_json(
            {
                "version": result.version,
                "path": str(result.path),
                "links_only": bool(result.manifest.links_only),
                "records": result.records,
                "shards": len(data),
                "bytes": sum(f.bytes for f in data),
                "left_out": {"without_url": no_url, "edited": edited},
                "documents": documents,
                "warnings": list(result.warnings),
                **({"published": published} if published else {}),
            }
        )
        return
    console.print(
        f"Released [bold]{escape(result.version)}[/]"
        + (" (links only)" if result.manifest.links_only else "")
        + f": {result.records:,} records in "
        f"{len(data)} shard(s), {human_bytes(sum(f.bytes for f in data))} → "
        f"{escape(str(result.path))}"
    )
    if no_url or edited:
        console.print(
            f"[yellow]Left out[/] (cannot be published as links): {no_url:,} without an "
            f"http(s) URL, {edited:,} edited by a step (fetching would return the unedited page)."
        )
    if published:
        console.print(f"Published → {escape(published)}/")
    for name, path in documents.items():
        console.print(f"  {name:<15} {escape(path)}")
    for note in result.warnings:  # e.g. no [dataset] homepage: Croissant's url is a placeholder
        console.print(f"[yellow]Warning:[/] {escape(note)}")


def verify(
    directory: Path = typer.Argument(..., help="A release directory (holds manifest.json)."),
    full: bool = typer.Option(  # noqa: FBT001
        False,
        "--full",
        help="Check every row's content_sha256 against its text (default: a random sample "
        "of whole row groups, at least 10,000 rows).",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the result as JSON (the exit code is still 3 if it does not verify).",
    ),
) -> None:
    """Check a release against its manifest: every file's sha256, size, rows and schema.

    Also: no symbolic links, each record's content_sha256 is the sha256 of its text (sampled;
    every row with --full), and, for a release inside a project, the manifest is the one the
    ledger recorded. Exit code 0 if it verifies, 3 if not (each problem names the file).

    Examples:
      [bold]datasteward verify releases/1.0.0 --full[/]
      [bold]datasteward verify releases/1.0.0 --json[/]
    """
    from datasteward.release.consumer.verify_release import verify_release

    report = verify_release(directory, full=full)
    if as_json:
        print_data_json(
            {
                "ok": report.ok,
                "version": report.version,
                "problems": list(report.problems),
                "notices": list(report.notices),
                "files_checked": report.files_checked,
                "rows_checked": report.rows_checked,
                "rows_total": report.rows_total,
                "ledger_checked": report.ledger_checked,
                "withdrawn": report.withdrawn,
            }
        )
        if not report.ok:
            sys.exit(EXIT_CHECK_FAILED)
        return
    for notice in report.notices:
        console.print(f"[yellow]notice:[/] {escape(notice)}")
    if report.ok and report.withdrawn:
        console.print(
            f"[green]OK[/] release {escape(report.version or '?')} is [bold]withdrawn[/]: a "
            "tombstone (manifest, status, documents); its data files are gone, as they should be."
        )
        return
    if not report.ok:
        for problem in report.problems:
            err_console.print(f"[bold red]FAIL[/] {escape(problem)}")
        sys.exit(EXIT_CHECK_FAILED)
    console.print(
        f"[green]OK[/] release {escape(report.version or '?')}: "
        f"{report.files_checked} files match the manifest; content_sha256 checked on "
        f"{report.rows_checked:,} of {report.rows_total:,} rows"
        + ("; the manifest is the one the ledger recorded." if report.ledger_checked else ".")
    )


takedown_app = typer.Typer(
    help="Takedown requests: record them, list them, apply them as patch releases.",
    no_args_is_help=True,
)


@takedown_app.command("add")
def takedown_add(
    requester: str = typer.Option(..., "--requester", help="Who asks (name and contact)."),
    reason: str = typer.Option(..., "--reason", help="Why (legal, privacy, ethical...)."),
    url: str | None = typer.Option(None, "--url", help="A page URL (http/https alike)."),
    domain: str | None = typer.Option(None, "--domain", help="A domain and its subdomains."),
    sha256: str | None = typer.Option(None, "--sha256", help="A content sha256."),
    record_id: str | None = typer.Option(None, "--id", help="A record id."),
    text: str | None = typer.Option(None, "--text", help="A name or e-mail in the text."),
    category: str = typer.Option(
        "other",
        "--kind",
        help="What kind of request: privacy|legal|copyright|harmful|other. The recipe's "
        "[takedown.policy] says what each does (default: privacy and legal erase the record "
        "everywhere and withdraw earlier releases; the others make a patch release only).",
    ),
    project: Path = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the request's id as JSON."),
) -> None:
    """Record a takedown request (stage: received). Give exactly one of the match options.

    For an erasing kind the ledger keeps only the sha256 of the value until it is applied.

    Example: [bold]datasteward takedown add --kind privacy --url https://example.com/a
    --requester "J. Doe <j@example.com>" --reason "personal data"[/]
    """
    from datasteward.errors import DatastewardError
    from datasteward.release.build.takedown import add_request

    given = {
        k: v
        for k, v in (
            ("url", url),
            ("domain", domain),
            ("sha256", sha256),
            ("id", record_id),
            ("text", text),
        )
        if v is not None
    }
    if len(given) != 1:
        raise DatastewardError(
            "give exactly one of --url, --domain, --sha256, --id, --text",
            hint="one request names one thing; add several requests for several",
        )
    ((kind, value),) = given.items()
    from datasteward.release.build.takedown import policy_for

    action, source = policy_for(project, category)
    tid = add_request(
        project, kind=kind, value=value, requester=requester, reason=reason, category=category
    )
    if as_json:
        print_data_json(
            {
                "takedown_id": tid,
                "kind": kind,
                "category": category,
                "action": action,
                "policy": source,
                "status": "received",
            }
        )
        return
    console.print(
        f"Recorded {category} takedown request [bold]#{tid}[/] ({kind}); policy: "
        f"[bold]{action}[/] ({escape(source)}). Apply it with [bold]datasteward takedown apply[/]."
    )


@takedown_app.command("list")
def takedown_list(
    status: str | None = typer.Option(None, "--status", help="received|matched|executed|notified"),
    project: Path = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the requests as JSON."),
) -> None:
    """List takedown requests with the time of each stage.

    Example: [bold]datasteward takedown list --status received --json[/]
    """
    from datasteward.release.build.takedown import list_requests

    requests = list_requests(project, status=status)
    if as_json:
        print_data_json(
            [
                {
                    "takedown_id": t.takedown_id,
                    "kind": t.kind,
                    "value": t.value,
                    "requester": t.requester,
                    "reason": t.reason,
                    "status": t.status,
                    "stages": {s: {"at": at, "detail": d} for s, (at, d) in t.stages.items()},
                }
                for t in requests
            ]
        )
        return
    table = Table(title="Takedown requests", title_justify="left")
    for col in ("#", "kind", "value", "requester", "reason", "status", "stages"):
        table.add_column(col)
    for t in requests:
        stages = ", ".join(f"{s} {at[:19]}" for s, (at, _d) in t.stages.items())
        table.add_row(
            str(t.takedown_id),
            t.kind,
            escape(t.value if t.kind != "text" else "(text)"),
            escape(t.requester),
            escape(t.reason),
            t.status,
            escape(stages),
        )
    console.print(table)


@takedown_app.command("apply")
def takedown_apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the matches; change nothing."),
    request: list[int] | None = typer.Option(None, "--request", "-r", help="Only these ids."),
    resume: bool = typer.Option(  # noqa: FBT001
        False, "--resume", help="Only finish erasures that stopped part way (a crash, kill)."
    ),
    include_sources: bool = typer.Option(  # noqa: FBT001
        False,
        "--include-sources",
        help="Also erase the records from the recipe's source files inside the project "
        "(Parquet and text formats; by default they are listed, not changed).",
    ),
    project: Path = ProjectOption,
    as_json: bool = typer.Option(
        False, "--json", help="Print the matches, patch releases and suppressions as JSON."
    ),
) -> None:
    """Find every matching record in every release and the latest run, show them, then write
    a patch release of each affected release line without them and suppress them.

    For requests whose kind's policy is erase (privacy, legal by default), also withdraw
    every superseded release that held a record (a tombstone: data deleted, status
    withdrawn) and erase the records from every file of the project, each file recorded
    in the ledger. An erasure stopped part way is finished by --resume.

    Example: [bold]datasteward takedown apply[/] then [bold]datasteward takedown verify 1[/]
    """
    from datasteward.erasure.apply import apply_takedowns

    with _progress(enabled=not as_json) as report:
        outcome = apply_takedowns(
            project,
            ids=request or None,
            dry_run=dry_run,
            resume=resume,
            include_sources=include_sources,
            progress=report,
        )
    result = outcome.applied
    if as_json:
        print_data_json(
            {
                "dry_run": dry_run,
                "matches": [
                    {"takedown_id": m.takedown_id, "where": m.where, "id": m.id, "url": m.url}
                    for m in (result.matches.items if result else [])
                ],
                "patches": [
                    {"of": parent, "version": patch, "path": str(project / "releases" / patch)}
                    for parent, patch in (result.patches.items() if result else [])
                ],
                "suppressed": result.suppressed if result else 0,
                "policies": {str(k): v for k, v in outcome.policies.items()},
                "erased": {str(k): v.as_dict() for k, v in outcome.erased.items()},
                "resumed": outcome.resumed,
            }
        )
        return
    for tid in outcome.resumed:
        console.print(f"Finished the erasure of request [bold]#{tid}[/] that had stopped.")
    if result is not None:
        _print_matches(result, project, dry_run=dry_run)
    for tid, s in outcome.erased.items():
        for v, repl in s.withdrawn.items():
            console.print(
                f"Withdrew release [bold]{v}[/] (tombstone; data deleted)"
                + (f", replaced by {repl}" if repl else "")
            )
        console.print(
            f"Erasure of request #{tid}: {s.files_rewritten} file(s) rewritten, "
            f"{s.files_deleted} deleted, {s.rows_erased:,} row(s)/stretch(es) erased; "
            f"prove it with [bold]datasteward takedown verify {tid}[/]."
        )
        for src in s.sources_left:
            console.print(
                f"[yellow]Not changed:[/] source input {escape(src)} (erase it there, or apply "
                "with --include-sources)"
            )


def _print_matches(result: Any, project: Path, *, dry_run: bool) -> None:
    table = Table(title="Matching records", title_justify="left")
    for col in ("request", "where", "id", "url"):
        table.add_column(col)
    for m in result.matches.items[:200]:
        table.add_row(f"#{m.takedown_id}", m.where, escape(m.id), escape(m.url or ""))
    console.print(table)
    if len(result.matches.items) > 200:
        console.print(f"... and {len(result.matches.items) - 200} more")
    if dry_run:
        console.print("[yellow]dry run:[/] nothing was changed.")
        return
    for parent, patch in result.patches.items():
        console.print(
            f"Patch release [bold]{patch}[/] of {parent} → "
            f"{escape(str(project / 'releases' / patch))}"
        )
    if not result.patches:
        console.print("No release needed a patch.")
    console.print(
        f"Suppression list: {result.suppressed} new entr{'y' if result.suppressed == 1 else 'ies'} "
        "(later runs drop these records at ingest)."
    )


@takedown_app.command("verify")
def takedown_verify(
    request: int = typer.Argument(..., help="The takedown request's number."),
    project: Path = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Prove an erasure: scan every Parquet file, every text/HTML/JSON/Markdown file and every
    ledger table of the project for the record's text, a window of it, its URL and (outside
    the ledger, the suppression list, receipts and status.json) its id.

    Exit code 0 if nothing is found, 3 naming each place still holding it.

    Example: [bold]datasteward takedown verify 1 --json[/]
    """
    from datasteward.erasure.verify import verify_request

    with _progress(enabled=not as_json) as report:
        proof = verify_request(project, request, progress=report)
    if as_json:
        print_data_json(
            {
                "takedown_id": request,
                "ok": proof.ok,
                "records": proof.records,
                "unfinished": proof.unfinished,
                "files_erased": proof.files_erased,
                "found": [
                    {
                        "place": f.place,
                        "what": list(f.what),
                        "rows": f.rows,
                        "source_input": f.source_input,
                    }
                    for f in proof.findings
                ],
            }
        )
        if not proof.ok:
            sys.exit(EXIT_CHECK_FAILED)
        return
    if proof.unfinished:
        err_console.print(
            f"[bold red]UNFINISHED[/] the erasure of request #{request} stopped part way: "
            "run [bold]datasteward takedown apply --resume[/]"
        )
    for f in proof.findings:
        err_console.print(f"[bold red]FOUND[/] {escape(f.describe())}")
    if not proof.ok:
        sys.exit(EXIT_CHECK_FAILED)
    console.print(
        f"[green]OK[/] takedown request #{request}: no file, table or document of the project "
        f"holds the {proof.records} erased record(s) (text, windows of it, URL, id); "
        f"{proof.files_erased} erasure(s) recorded in the ledger."
    )


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar fed by the library's progress(stage, done, total) callback."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    from rich.progress import Progress as Bar

    with Bar(console=err_console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report


def deprecate(
    version: str = typer.Argument(..., help="The release to deprecate."),
    reason: str = typer.Option(..., "--reason", help="Why it is deprecated."),
    sunset: str = typer.Option(..., "--sunset", help="Date (YYYY-MM-DD) access changes."),
    access: str = typer.Option(..., "--access", help="After the sunset: archived|gated|deleted."),
    replacement: str | None = typer.Option(
        None, "--replacement", help="Version or URL to use instead."
    ),
    kind: str = typer.Option("other", "--kind", help="technical|legal|ethical|other."),
    mitigation: str | None = typer.Option(
        None, "--mitigation", help="What users should do meanwhile."
    ),
    appeal: str | None = typer.Option(None, "--appeal-contact", help="Whom to contact to appeal."),
    by: str = typer.Option("steward", "--by", help="Who deprecates it."),
    project: Path = ProjectOption,
) -> None:
    """Deprecate a release: status.json, the registry, the ledger and DataCite IsObsoletedBy.

    Example: [bold]datasteward deprecate 1.0.0 --reason "contains personal data" --kind legal
    --replacement 1.1.0 --sunset 2027-01-31 --access gated[/]
    """
    from datasteward.release.build.deprecate import deprecate as do_deprecate

    dep = do_deprecate(
        project,
        version,
        reason=reason,
        replacement=replacement,
        sunset=sunset,
        access=access,
        reason_kind=kind,
        mitigation=mitigation,
        appeal_contact=appeal,
        by=by,
    )
    console.print(
        f"Deprecated [bold]{escape(version)}[/] ({dep['reason_kind']}): {escape(dep['reason'])}. "
        f"Access after {dep['sunset']}: {dep['access']}."
        + (f" Replacement: {escape(str(dep['replacement']))}." if dep["replacement"] else "")
    )


def fetch(
    release_dir: str = typer.Argument(
        ..., metavar="RELEASE", help="A links-only release: directory, project or URL."
    ),
    version: str | None = typer.Option(None, "--version", help="Which release of a project."),
    out: Path = typer.Option(
        Path("fetched"), "--out", "-o", help="Where to write records.parquet and status.parquet."
    ),
    max_mb: float = typer.Option(10.0, "--max-mb", min=0.001, help="Largest page read, in MB."),
    concurrency: int = typer.Option(8, "--concurrency", "-c", min=1, help="Requests at once."),
    per_host: int = typer.Option(2, "--per-host", min=1, help="Requests at once to one host."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.1, help="Seconds per request."),
    allow_deprecated: bool = typer.Option(
        False, "--allow-deprecated", help="Fetch a deprecated release anyway."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the counts per status and the output paths as JSON."
    ),
) -> None:
    """Download the pages of a links-only release and keep those whose hashes match.

    Writes OUT/records.parquet (the verified records, with their text),
    OUT/status.parquet (verified, changed, unreachable or too_large per record, and why)
    and OUT/summary.json. Records withdrawn by takedowns are never fetched.

    Examples:
      [bold]datasteward fetch releases/1.0.0 --out fetched/[/]
      [bold]datasteward fetch my-dataset --version 1.0.0 --json[/]
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from datasteward.release.consumer.fetch_links import STATUSES, fetch_links

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("fetching", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = fetch_links(
            release_dir,
            version,
            out=out,
            max_bytes=int(max_mb * 1024 * 1024),
            concurrency=concurrency,
            per_host=per_host,
            timeout=timeout,
            allow_deprecated=allow_deprecated,
            progress=progress,
        )
    problems = result.status.filter(_not_verified(result.status))
    if as_json:
        print_data_json(
            {
                "version": result.version,
                "counts": {st: result.counts.get(st, 0) for st in STATUSES},
                "withdrawn": result.withdrawn,
                "records": str(out / "records.parquet"),
                "status": str(out / "status.parquet"),
                "not_verified": problems.slice(0, 100).to_pylist(),
            }
        )
        return
    table = Table(title=f"Release {escape(result.version)}: pages fetched", title_justify="left")
    table.add_column("status")
    table.add_column("records", justify="right")
    for s in STATUSES:
        table.add_row(s, f"{result.counts.get(s, 0):,}")
    if result.withdrawn:
        table.add_row("withdrawn (not fetched)", f"{result.withdrawn:,}")
    console.print(table)
    for row in problems.slice(0, 10).to_pylist():
        console.print(
            f"  [yellow]{row['status']}[/] {escape(str(row['source_uri']))}: "
            f"{escape(str(row['reason']))}"
        )
    if problems.num_rows > 10:
        console.print(f"  ... and {problems.num_rows - 10:,} more (see status.parquet)")
    console.print(
        f"Verified records (with text) → {escape(str(out / 'records.parquet'))}; "
        f"every status → {escape(str(out / 'status.parquet'))}"
    )


def _not_verified(status: Any) -> Any:
    import pyarrow.compute as pc

    return pc.not_equal(status.column("status"), "verified")


def register(app: typer.Typer) -> None:
    app.command("release")(release)
    app.command("verify")(verify)
    app.command("fetch")(fetch)
    app.add_typer(takedown_app, name="takedown")
    app.command("deprecate")(deprecate)
