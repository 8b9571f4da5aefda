"""``serve`` (the stewardship site) and ``users`` (its accounts).

Both need the ``web`` extra (``pip install 'datasteward[web]'``); it is imported only when one
of these commands runs, so the rest of the CLI works without it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from datasteward.cli._common import ProjectOption, console, err_console, print_data_json, term
from datasteward.errors import MissingDependencyError, WebError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Idle keep-alive connections are closed after this many seconds (uvicorn's default, 5 s,
#: races with clients that reuse a connection just as it closes under load).
KEEP_ALIVE_S = 30


def _require(module: str, package: str, feature: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError.for_extra(package, "web", feature)


def serve(
    project: Path = ProjectOption,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (only this machine by default)."
    ),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Worker processes (use PostgreSQL for more than one)."
    ),
    dev: bool = typer.Option(  # noqa: FBT001
        False,
        "--dev",
        help="Development: generate a throwaway secret when $DATASTEWARD_WEB_SECRET is unset; "
        "cookies without the Secure flag (plain http://).",
    ),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Behind a reverse proxy: the proxy's address(es), whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are trusted (client addresses for rate limits).",
    ),
    max_body_mb: float = typer.Option(
        10.0, "--max-body-mb", help="Largest request body accepted (forms and uploads), MB."
    ),
) -> None:
    """Serve the project's site: public dataset and release pages, gated downloads,
    takedown requests, and the stewards' pages.

    The ledger is the project's (SQLite by default; PostgreSQL with $DATASTEWARD_LEDGER_URL).
    The site's secret comes from $DATASTEWARD_WEB_SECRET (never from the project). See
    docs/serve.md for running it in production.

    Example: [bold]DATASTEWARD_WEB_SECRET=... datasteward serve --project demo/news[/]
    """
    _require("litestar", "litestar", "`datasteward serve`")
    _require("uvicorn", "uvicorn", "`datasteward serve`")
    import uvicorn

    from datasteward.web.app import create_app
    from datasteward.web.settings import (
        DEV_ENV,
        PROJECT_ENV,
        SECRET_ENV,
        WebSettings,
        secret_from_env,
    )

    folder = project.absolute()
    if not (folder / "datasteward.toml").is_file():
        raise WebError(
            f"{folder} is not a datasteward project (no datasteward.toml)",
            hint="pass the project folder with --project",
        )
    secret, generated = secret_from_env(dev=dev)
    if generated:
        err_console.print(
            f"[yellow]--dev: ${SECRET_ENV} is not set; using a secret generated for this "
            "process (sessions and download links end when it stops)[/]"
        )
    if host not in LOCAL_HOSTS:
        err_console.print(
            f"[yellow]listening on {escape(host)}: the site is reachable from other machines; "
            "put it behind a TLS reverse proxy (docs/serve.md)[/]"
        )
    proxy = {"proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips}
    if not forwarded_allow_ips:
        proxy = {"proxy_headers": False}
    console.print(
        f"Serving [bold]{escape(str(folder))}[/] on http://{escape(host)}:{port}/ "
        f"({workers} worker{'s' if workers > 1 else ''}; Ctrl+C stops)"
    )
    if workers == 1:
        settings = WebSettings(
            project=folder,
            secret=secret,
            dev=dev,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
        )
        app = create_app(settings)
        uvicorn.run(
            app, host=host, port=port, log_level="info", timeout_keep_alive=KEEP_ALIVE_S,
            **proxy,  # type: ignore[arg-type]
        )  # fmt: skip
        return
    # several workers: each imports the app from the environment set here (same secret)
    os.environ[PROJECT_ENV] = str(folder)
    os.environ[SECRET_ENV] = secret.decode("utf-8")
    os.environ[DEV_ENV] = "1" if dev else "0"
    uvicorn.run(
        "datasteward.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_keep_alive=KEEP_ALIVE_S,
        **proxy,  # type: ignore[arg-type]
    )


users_app = typer.Typer(
    no_args_is_help=True,
    help="Accounts of the stewardship site (datasteward serve).\n\n"
    "Example: [bold]datasteward users add ana --role maintainer[/]",
)


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Login name (no spaces)."),
    role: str = typer.Option(
        ..., "--role", help="maintainer (everything), reviewer (review queue) or viewer."
    ),
    password_stdin: bool = typer.Option(  # noqa: FBT001
        False, "--password-stdin", help="Read the password from standard input (one line)."
    ),
    project: Path = ProjectOption,
) -> None:
    """Add a site account; the password is asked for (or read from stdin) and stored as an
    argon2 hash (never in the event log).

    Example: [bold]datasteward users add ana --role maintainer --project demo/news[/]
    """
    _require("argon2", "argon2-cffi", "`datasteward users`")
    from datasteward.ledger import Ledger
    from datasteward.ledger.web_access import ROLES
    from datasteward.web.passwords import MIN_PASSWORD_CHARS, hash_password

    if role not in ROLES:
        raise WebError(f"unknown role {role!r}", hint="use one of: " + ", ".join(ROLES))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_CHARS:
        raise WebError(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD_CHARS}",
            hint="a passphrase of a few words is easy to type and hard to guess",
        )
    with Ledger.open(project) as ledger:
        account = ledger.add_account(name, role=role, password_hash=hash_password(password))
    console.print(f"Added {term(account.name)} ({account.role}).")


@users_app.command("list")
def users_list(
    project: Path = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),  # noqa: FBT001
) -> None:
    """List the site accounts and their roles.

    Example: [bold]datasteward users list --project demo/news[/]
    """
    from datasteward.ledger import Ledger

    with Ledger.open(project, read_only=True) as ledger:
        accounts = ledger.accounts()
    if as_json:
        print_data_json([{"name": a.name, "role": a.role, "added_at": a.added_at}
                         for a in accounts])  # fmt: skip
        return
    if not accounts:
        console.print("No accounts yet: `datasteward users add NAME --role maintainer`.")
        return
    table = Table(box=box.SIMPLE)
    for col in ("name", "role", "added"):
        table.add_column(col)
    for a in accounts:
        table.add_row(term(a.name), a.role, a.added_at)
    console.print(table)


@users_app.command("remove")
def users_remove(
    name: str = typer.Argument(..., help="The account to remove."),
    project: Path = ProjectOption,
) -> None:
    """Remove a site account (its sessions stop working at once).

    Example: [bold]datasteward users remove ana --project demo/news[/]
    """
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        ledger.remove_account(name)
    console.print(f"Removed {term(name)}.")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
