"""``datasteward users`` and ``datasteward serve`` through the real entry point."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from web_kit import PASSWORD

pytestmark = pytest.mark.slow  # subprocesses of the real entry point (a few seconds each)


def _cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "datasteward", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env=env or dict(os.environ),
    )  # fmt: skip


def test_users_add_list_remove(project: Path) -> None:
    p = str(project)
    r = _cli("users", "add", "ana", "--role", "maintainer", "--password-stdin", "-p", p,
             stdin=PASSWORD + "\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Added ana (maintainer)" in r.stdout
    again = _cli("users", "add", "ana", "--role", "viewer", "--password-stdin", "-p", p,
                 stdin=PASSWORD + "\n")  # fmt: skip
    assert again.returncode == 1 and "already a site account 'ana'" in again.stderr
    short = _cli("users", "add", "bo", "--role", "viewer", "--password-stdin", "-p", p,
                 stdin="short\n")  # fmt: skip
    assert short.returncode == 1 and "at least 12" in short.stderr
    bad = _cli("users", "add", "cy", "--role", "admin", "--password-stdin", "-p", p,
               stdin=PASSWORD + "\n")  # fmt: skip
    assert bad.returncode == 1 and "unknown role 'admin'" in bad.stderr
    listed = _cli("users", "list", "--json", "-p", p)
    assert listed.returncode == 0
    import json

    assert [(u["name"], u["role"]) for u in json.loads(listed.stdout)] == [("ana", "maintainer")]
    assert _cli("users", "remove", "ana", "-p", p).returncode == 0
    assert json.loads(_cli("users", "list", "--json", "-p", p).stdout) == []
    # the chain records the account changes, never the hash
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        events = ledger.events(limit=1000)
        assert ledger.verify().ok
    types = [e.type for e in events]
    assert types.count("web.account.added") == 1 and types.count("web.account.removed") == 1
    assert all("argon2" not in str(e.payload) for e in events)


def test_serve_refuses_without_a_secret(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATASTEWARD_WEB_SECRET"}
    r = _cli("serve", "--project", str(project), env=env)
    assert r.returncode == 1
    assert "DATASTEWARD_WEB_SECRET is not set" in r.stderr and "--dev" in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 3


def test_serve_dev_answers_on_127_0_0_1(project: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DATASTEWARD_WEB_SECRET"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasteward", "serve", "--project", str(project), "--dev",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/status.json", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert status is not None and status.status_code == 200
        assert status.json()["current"] == "1.0.0"
        assert "unsafe-inline" not in status.headers["content-security-policy"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "generated for this" in err  # --dev says it made a secret
    assert f"http://127.0.0.1:{port}/" in out
