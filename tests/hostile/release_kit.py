"""A small released project and local HTTP servers for the hostile-release tests (a uniquely
named module, not a conftest: other hostile tests share the folder).

The project is built from records the test writes itself, with no step that edits text, so
its ``content_sha256`` values are the hashes of the stored text.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RECIPE = """\
[dataset]
name = "hostile-release"
description = "A release that someone else will tamper with."

[[stewards]]
name = "Ada Steward"
email = "ada@example.org"
role = "maintainer"

[[sources]]
name = "web"
format = "jsonl"
path = "data/*.jsonl"
text_field = "text"
url_field = "url"
id_field = "id"
license = "CC-BY-4.0"
consent = "unknown"

[[steps]]
use = "filter.length"
min_words = 3
"""

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def records(n: int = 120) -> list[dict[str, Any]]:
    return [
        {
            "id": f"r{i:04d}",
            "url": f"https://site{i % 7}.example.org/page/{i}",
            "text": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(5 + i % 9))
            + f" number {i}.",
        }
        for i in range(n)
    ]


def build_project(root: Path, *, n: int = 120, max_shard_bytes: int = 4_000) -> Path:
    """A project with one run and draft release 1.0.0 (several shards); returns ``root``."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    (root / "data").mkdir(parents=True)
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    with (root / "data" / "in.jsonl").open("w", encoding="utf-8") as out:
        for r in records(n):
            out.write(json.dumps(r) + "\n")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True, max_shard_bytes=max_shard_bytes)
    return root


def copy_project(src: Path, dst: Path) -> Path:
    return Path(shutil.copytree(src, dst, symlinks=True))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rewrite_manifest(release: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = release / "manifest.json"
    data = json.loads(path.read_text("utf-8"))
    edit(data)
    path.write_text(json.dumps(data, indent=2), "utf-8")


def relist(release: Path, rel: str) -> None:
    """Make the manifest's entry for ``rel`` match the file as it is now (a forger's move)."""
    data = (release / rel).read_bytes()

    def edit(m: dict[str, Any]) -> None:
        for f in m["files"]:
            if f["path"] == rel:
                f["sha256"], f["bytes"] = sha256(data), len(data)

    rewrite_manifest(release, edit)


class Served:
    """What a test server saw: request paths and the body bytes it managed to send."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.sent: dict[str, int] = {}
        self.lock = threading.Lock()

    def add(self, path: str, n: int) -> None:
        with self.lock:
            self.sent[path] = self.sent.get(path, 0) + n


@contextmanager
def serve(
    directory: Path,
    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler, Served], None]] | None = None,
) -> Iterator[tuple[str, Served]]:
    """An HTTP server on 127.0.0.1 serving ``directory``, with ``routes`` (by path) overriding
    single files; yields (base URL, what it served). Stopped on exit."""
    served = Served()
    special = routes or {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            served.paths.append(self.path)
            route = special.get(self.path)
            if route is not None:
                try:
                    route(self, served)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            super().do_GET()

    handler = functools.partial(Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


def send(
    handler: http.server.BaseHTTPRequestHandler,
    body: bytes,
    *,
    status: int = 200,
    length: int | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def stream(
    handler: http.server.BaseHTTPRequestHandler,
    served: Served,
    *,
    total: int,
    chunk: int = 64 * 1024,
    pause: float = 0.0,
    declare: bool = False,
) -> None:
    """Send ``total`` bytes in chunks (optionally pausing between them), counting what was
    sent until the client hung up."""
    import time

    handler.send_response(200)
    if declare:
        handler.send_header("Content-Length", str(total))
    handler.send_header("Connection", "close")
    handler.end_headers()
    left = total
    block = b"x" * chunk
    while left > 0:
        part = block[: min(chunk, left)]
        handler.wfile.write(part)
        handler.wfile.flush()
        served.add(handler.path, len(part))
        left -= len(part)
        if pause:
            time.sleep(pause)


def cli(*args: str) -> tuple[int, str, str]:
    """Run ``datasteward ARGS`` in this process: (exit code, stdout, stderr), blanks squeezed
    (the console wraps long lines). An exception other than an exit is raised."""
    from typer.testing import CliRunner

    from datasteward.cli import main

    main._load()
    res = CliRunner().invoke(main.app, list(args))
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, " ".join(res.stdout.split()), " ".join(res.stderr.split())
