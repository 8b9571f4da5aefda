"""A local HTTP server on 127.0.0.1 (port 0) serving crafted site policies, for the tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    #: path -> (status, body, extra headers)
    files: Mapping[str, tuple[int, str, Mapping[str, str]]]
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, path, UA)
    url: str = ""


@contextmanager
def serve(files: Mapping[str, tuple[int, str, Mapping[str, str]]]) -> Iterator[Site]:
    site = Site(files)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            site.requests.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
            status, body, headers = site.files.get(self.path, (404, "not found", {}))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
