"""Real HTTP servers on 127.0.0.1 for the collect tests, with a request log.

Each :class:`Site` is one host (its own port) serving a route table; a route is a
:class:`Page` (status, headers, body, and misbehaviour: a delay, a slow drip, a reset, a
truncated body) or a list of them (served in turn: e.g. a 503 then a 200). Every request is
logged with its arrival and end times, so politeness is checked from the server's side.
"""

from __future__ import annotations

import gzip
import http.server
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from datafiles import shared


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    delay: float = 0.0  # before the status line
    drip: float = 0.0  # seconds between 1-KiB chunks of the body
    reset: bool = False  # close the connection without answering
    truncate: bool = False  # announce the full length, send half, close
    gzip: bool = False  # Content-Encoding: gzip


@dataclass
class Hit:
    port: int
    path: str
    start: float
    end: float
    user_agent: str


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site: Site

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        site = self.server.site  # type: ignore[attr-defined]
        start = time.monotonic()
        with site.lock:
            site.in_flight += 1
            site.max_in_flight = max(site.max_in_flight, site.in_flight)
        try:
            self._serve(site)
        finally:
            with site.lock:
                site.in_flight -= 1
                site.log.append(
                    Hit(
                        site.port,
                        self.path,
                        start,
                        time.monotonic(),
                        self.headers.get("User-Agent", ""),
                    )
                )

    def _serve(self, site: Site) -> None:
        page = site.page(self.path)
        if page.delay:
            time.sleep(page.delay)
        if page.reset:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        body = (
            gzip.compress(page.body)
            if page.gzip and not page.headers.get("Content-Encoding")
            else page.body
        )
        self.send_response(page.status)
        for k, v in page.headers.items():
            self.send_header(k, v)
        if page.gzip and "Content-Encoding" not in page.headers:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if page.truncate:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if page.drip:
                for i in range(0, len(body), 1024):
                    self.wfile.write(body[i : i + 1024])
                    self.wfile.flush()
                    time.sleep(page.drip)
            else:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up (timeouts, caps) are part of the tests


class Site:
    """One host: a threaded HTTP server on 127.0.0.1 with its routes and request log."""

    def __init__(self, routes: dict[str, Page | list[Page]] | None = None) -> None:
        self.routes: dict[str, Page | list[Page]] = dict(routes or {})
        self.log: list[Hit] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._served: dict[str, int] = {}
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.site = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str) -> Page:
        with self.lock:
            route = self.routes.get(path)
            if route is None:
                return Page(b"not found", 404, {"Content-Type": "text/plain"})
            if isinstance(route, list):
                n = self._served.get(path, 0)
                self._served[path] = n + 1
                return route[min(n, len(route) - 1)]
            return route

    def paths(self) -> list[str]:
        with self.lock:
            return [h.path for h in self.log]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Silent:
    """A host that accepts connections and never answers (a read timeout)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.sock.close()


def real_pages(n: int) -> list[bytes]:
    """``n`` real article pages (the article-extraction benchmark's HTML), or the Common
    Crawl whirlwind WARC's HTML payloads when the benchmark is not there."""
    folder = shared("webtext", "article-extraction-benchmark", "html")
    files = sorted(Path(folder).glob("*.html.gz"))[:n]
    return [gzip.decompress(f.read_bytes()) for f in files]


def gaps(log: list[Hit]) -> list[float]:
    """Seconds between the end of each request and the start of the next, per host."""
    out = []
    hits = sorted(log, key=lambda h: h.start)
    for a, b in zip(hits, hits[1:], strict=False):
        out.append(b.start - a.end)
    return out
