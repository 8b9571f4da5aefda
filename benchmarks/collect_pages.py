# ruff: noqa: T201  (a benchmark script prints its table)
"""Benchmark: the page crawler (``datasteward collect pages``), politeness off and on.

    python benchmarks/collect_pages.py                 # 400 URLs on 8 local hosts
    python benchmarks/collect_pages.py --pages 1000 --delay 0.2

One local server (8 hosts: 8 ports of 127.0.0.1, threads of this process, so its CPU is not
counted), one URL list of real article pages (the article-extraction benchmark's HTML, 181
pages, served round-robin), crawled twice by the real command in a child process:

* **off**: ``min_delay = 0``, one connection per host, concurrency 16 (throughput);
* **on**: ``min_delay = --delay`` (default 0.1 s) between the end of one request to a host
  and the start of the next.

CPU is the child's user+system time (``RUSAGE_CHILDREN``). The table prints pages written
per CPU-second and per wall-second, and for "on" the gaps the SERVER saw between requests to
one host (min / median): the delay is held if the minimum is not below it.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO / ".." / "shared" / "data" / "webtext" / "article-extraction-benchmark" / "html"
HOSTS = 8


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        srv = self.server
        start = time.monotonic()
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path.startswith("/p"):
            pages: list[bytes] = srv.pages  # type: ignore[attr-defined]
            body, ctype = pages[int(self.path[2:]) % len(pages)], "text/html; charset=utf-8"
        else:
            body, ctype = b"not found", "text/plain"
        self.send_response(200 if body != b"not found" else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with srv.lock:  # type: ignore[attr-defined]
            srv.log.append((start, time.monotonic()))  # type: ignore[attr-defined]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def start_hosts(pages: list[bytes]) -> list[_Server]:
    servers = []
    for _ in range(HOSTS):
        s = _Server(("127.0.0.1", 0), _Handler)
        s.pages, s.log, s.lock = pages, [], threading.Lock()  # type: ignore[attr-defined]
        threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(s)
    return servers


CRAWL = """
import sys
from datasteward.collect.pages import PageCrawl
from datasteward.recipe import load_recipe
r = load_recipe(sys.argv[1])
s = PageCrawl(r.dir, r.collect[0]).run()
print(s.progress["written"])
"""


def crawl(work: Path, urls: list[str], delay: float) -> tuple[int, float, float]:
    """(pages written, CPU seconds, wall seconds) of one crawl in a child process."""
    work.mkdir(parents=True)
    (work / "urls.txt").write_text("\n".join(urls) + "\n")
    (work / "datasteward.toml").write_text(
        '[dataset]\nname = "bench"\n[[sources]]\nname = "web"\nformat = "warc"\n'
        'path = "collect/c/warc/*.warc.gz"\n[[collect]]\nname = "c"\nurls = "urls.txt"\n'
        f'max_depth = 0\nmax_pages = {len(urls)}\ncontact_url = "https://example.org/bench"\n'
        f"min_delay = {delay}\nconcurrency = 16\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", CRAWL, str(work / "datasteward.toml")],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return int(out.stdout.strip().splitlines()[-1]), cpu, wall


def gaps(servers: list[_Server]) -> list[float]:
    out = []
    for s in servers:
        hits = sorted(s.log)  # type: ignore[attr-defined]
        out += [b[0] - a[1] for a, b in zip(hits, hits[1:], strict=False)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=400, help="URLs in the list")
    ap.add_argument("--delay", type=float, default=0.1, help="min_delay for the 'on' run")
    args = ap.parse_args()
    pages_benchmark(args.pages, args.delay)


def pages_benchmark(n_urls: int, delay: float) -> None:
    """The crawler on one URL list, politeness off then on; prints the table."""
    files = sorted(PAGES.glob("*.html.gz"))
    if not files:
        sys.exit(f"no pages at {PAGES} (the shared data folder)")
    pages = [gzip.decompress(f.read_bytes()) for f in files]
    servers = start_hosts(pages)
    urls = [f"http://127.0.0.1:{servers[i % HOSTS].server_address[1]}/p{i}" for i in range(n_urls)]
    print(
        f"{len(urls)} URLs on {HOSTS} local hosts, {len(pages)} real pages "
        f"({sum(map(len, pages)) / len(pages) / 1024:.0f} KiB mean)"
    )
    print(
        f"{'politeness':<22}{'pages':>7}{'CPU s':>8}{'wall s':>8}{'pages/CPU-s':>13}"
        f"{'pages/s':>9}{'gap min':>9}{'gap med':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, min_delay in (
            ("off (min_delay 0)", 0.0),
            (f"on (min_delay {delay})", delay),
        ):
            for s in servers:
                s.log.clear()  # type: ignore[attr-defined]
            n, cpu, wall = crawl(Path(tmp) / label.split()[0], urls, min_delay)
            g = gaps(servers)
            print(
                f"{label:<22}{n:>7}{cpu:>8.2f}{wall:>8.2f}{n / cpu:>13.1f}{n / wall:>9.1f}"
                f"{min(g):>9.3f}{statistics.median(g):>9.3f}"
            )
    for s in servers:
        s.shutdown()


if __name__ == "__main__":
    main()
