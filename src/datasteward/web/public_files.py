"""The data files of open releases, streamed before routing.

A download of a release's data file is most of what the site serves by volume, and through
the whole application (routing, middleware, dependency injection, Litestar's file response) it
cost about 2-3 ms of CPU per 1 MB file, several times what the file itself does. The data
and index files of a release that is **open** and not withdrawn are public and the same for
everyone, so :func:`open_file` answers them in the layer in front of the application
(:func:`datasteward.web.public.cached_pages_first`): the same checks as
:func:`datasteward.web.downloads.release_file` (the version exists and is not withdrawn, the
manifest lists the file with role ``data`` or ``index``, the resolved path stays inside the
release folder, the release is not gated), then the file in 1 MB chunks, one thread hop per
chunk (the first opens the file too). Anything else — a gated release, a token, a document,
``manifest.json``, an unknown or withdrawn version, a path that does not resolve inside the
release — goes to the application, which answers it as before (404, 410, 403, signed links,
download events).
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from typing import IO, TYPE_CHECKING

import anyio.to_thread

from datasteward.web.access_links import GATED_ROLES
from datasteward.web.security import contained

if TYPE_CHECKING:
    from pathlib import Path

    from litestar.types import Receive, Send

    from datasteward.web.site import Site

CHUNK = 1024 * 1024
_PREFIX = "/releases/"
_FILES = "/files/"


def open_file(site: Site, path: str) -> Path | None:
    """The file an anonymous GET of ``path`` (no query) downloads, if this layer may serve it."""
    if not path.startswith(_PREFIX) or site.access_mode != "open":
        return None
    version, sep, rel = path[len(_PREFIX) :].partition(_FILES)
    if not sep or not version or "/" in version:
        return None
    view = site.releases.get(version)
    if view is None or view.withdrawn:
        return None
    entry = view.file(rel)
    if entry is None or entry.role not in GATED_ROLES or not _plain(rel):
        return None
    return contained(view.directory, rel)


def _plain(rel: str) -> bool:
    """A path whose name goes into ``Content-Disposition`` as it is (the application's
    response encodes any other name)."""
    return rel.isascii() and rel.isprintable() and not any(c in rel for c in '"\\;')


def _content_type(name: str) -> bytes:
    """As Litestar's file response says it: the guessed type, text with its charset."""
    kind, _ = mimetypes.guess_type(name)
    kind = kind or "application/octet-stream"
    return (f"{kind}; charset=utf-8" if kind.startswith("text/") else kind).encode("latin-1")


def _first(target: Path) -> tuple[IO[bytes], int, bytes]:
    """Open ``target``: (the file, its size, its first chunk), in one thread hop."""
    f = open(target, "rb")  # noqa: SIM115 - send_file closes it
    try:
        return f, os.fstat(f.fileno()).st_size, f.read(CHUNK)
    except BaseException:
        f.close()
        raise


async def send_file(target: Path, receive: Receive, send: Send) -> bool:
    """Stream ``target`` as an attachment (``Cache-Control`` as the application sends it for
    open files); stops reading when the client goes away. False (nothing sent) when the file
    cannot be opened: the application answers then."""
    try:
        f, size, chunk = await anyio.to_thread.run_sync(_first, target)
    except OSError:
        return False
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch())
    try:
        name = target.name.replace('"', "")
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", _content_type(target.name)),
                (b"content-length", str(size).encode("latin-1")),
                (b"content-disposition", f'attachment; filename="{name}"'.encode()),
                (b"cache-control", b"public, max-age=300"),
            ],
        })  # fmt: skip
        sent = 0
        while True:
            sent += len(chunk)
            more = sent < size and len(chunk) == CHUNK
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more or gone.is_set():
                break
            chunk = await anyio.to_thread.run_sync(f.read, CHUNK)
    finally:
        watcher.cancel()
        f.close()
    return True
