"""Entry point of the ``datasteward`` command.

Each group of subcommands lives in its own module that exposes ``register(app)``; this module
only assembles them, renders errors as one clear line (a traceback only with ``--debug``) and
sets the exit codes:

* 0 — success
* 1 — a datasteward error (bad recipe, unreadable input, failed check...)
* 2 — wrong usage (unknown option, missing argument)
* 3 — a check found problems (``verify``, ``log verify``, ``check``)
* 130 — interrupted
"""

from __future__ import annotations

import importlib
import sys

import typer

from datasteward.errors import DatastewardError

#: Modules that add subcommands; each exposes ``register(app: typer.Typer) -> None``.
COMMAND_MODULES: list[str] = [
    "datasteward.cli.project_cmds",
    "datasteward.cli.rights_cmds",
    "datasteward.cli.ledger_cmds",
    "datasteward.cli.audit_cmds",
    "datasteward.cli.release_cmds",
    "datasteward.cli.collect_cmds",
    "datasteward.cli.web_cmds",
    "datasteward.cli.annotations_cmds",
]

app = typer.Typer(
    name="datasteward",
    help="A workbench for the people who make machine-learning datasets.\n\n"
    "Example: [bold]datasteward init my-dataset[/], then "
    "[bold]datasteward run --project my-dataset --estimate[/]",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        from datasteward import __version__

        typer.echo(f"datasteward {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="Log what happens (-v: info, -vv: debug)."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Options of every command (the help text is the app's)."""
    from datasteward.cli._common import configure_output

    _state["debug"] = debug
    configure_output(verbosity=2 if debug else verbose)


_loaded: list[str] = []


def _load() -> None:
    """Register every command module's subcommands, once."""
    for name in COMMAND_MODULES:
        if name not in _loaded:
            importlib.import_module(name).register(app)
            _loaded.append(name)


def main() -> None:
    _load()
    try:
        code = app(standalone_mode=False)
    except DatastewardError as exc:
        if _state["debug"]:
            raise
        _error_line(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:
        # usage errors: typer (0.29, pinned in pyproject.toml) vendors click, so its errors are
        # TyperException, not click.ClickException; one line, exit 2 (others keep their code)
        if _state["debug"]:
            raise
        _usage_error(exc)
    except Exception as exc:
        from datasteward.disk import disk_full_message, failed_path, is_disk_full

        if is_disk_full(exc) and not _state["debug"]:
            from pathlib import Path

            where = failed_path(exc) or Path.cwd()
            _error_line(
                disk_full_message(where) + " (free some space and run the command again; an "
                "interrupted run resumes with `run --resume`)"
            )
            sys.exit(1)
        if _cannot_write(exc) and not _state["debug"]:
            sys.exit(1)
        raise
    # without standalone mode, click returns the code of `typer.Exit(code)` instead of exiting
    if isinstance(code, int) and code:
        sys.exit(code)


def _cannot_write(exc: BaseException) -> bool:
    """One line for a write refused by the file system (a read-only project, a file size
    limit); True if ``exc`` was one and the line was printed."""
    import errno

    if not isinstance(exc, OSError) or exc.errno not in (
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.EFBIG,
    ):
        return False
    where = f" {exc.filename}" if exc.filename else ""
    why = {
        errno.EROFS: "the file system is read-only",
        errno.EFBIG: "a file reached the file size limit (`ulimit -f`)",
    }.get(exc.errno or 0, "permission denied (the project, or this folder, is read-only)")
    _error_line(
        f"cannot write{where}: {why} (run this command where the project is writable and "
        "within the limits; reading commands (status, log, log verify, audit --out "
        "elsewhere) work on a read-only project)"
    )
    return True


def _usage_error(exc: Exception) -> None:
    """One line on stderr for a usage error, with where to find help; exits with its code."""
    code = int(getattr(exc, "exit_code", 2))
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    if not message.strip():
        # no_args_is_help: typer has printed the help already
        sys.exit(code)
    hint = ""
    if ctx is not None and getattr(ctx, "command_path", None):
        hint = f" (see `{ctx.command_path} --help`)"
    _error_line(" ".join(message.split()) + hint)
    sys.exit(code)


def _error_line(text: str) -> None:
    from rich.markup import escape

    from datasteward.cli._common import configure_output, err_console

    configure_output()
    err_console.print("[bold red]error:[/] " + escape(text), highlight=False)
