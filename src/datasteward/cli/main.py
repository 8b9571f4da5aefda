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
import logging
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
]

app = typer.Typer(
    name="datasteward",
    help="A workbench for the people who make machine-learning datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens."),
) -> None:
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else (logging.INFO if verbose else logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )


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
        from rich.console import Console

        if _state["debug"]:
            raise
        Console(stderr=True).print("[bold red]error:[/] " + _escape(str(exc)), highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors
        import click

        from datasteward.disk import disk_full_message, failed_path, is_disk_full

        if is_disk_full(exc) and not _state["debug"]:
            from pathlib import Path

            from rich.console import Console

            where = failed_path(exc) or Path.cwd()
            Console(stderr=True).print(
                "[bold red]error:[/] " + _escape(disk_full_message(where)) + " (free some space "
                "and run the command again; an interrupted run resumes with `run --resume`)",
                highlight=False,
            )
            sys.exit(1)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    # without standalone mode, click returns the code of `typer.Exit(code)` instead of exiting
    if isinstance(code, int) and code:
        sys.exit(code)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
