# ruff: noqa: T201 - a benchmark script prints its table
"""``datasteward serve`` under load: 100 concurrent clients for 30 s on the public pages and
downloads of a project's newest release, against a plain static file server on the same files.

The site runs as ``datasteward serve`` (uvicorn; ``--workers N``), the peer is Python's
``http.server`` (what ``python -m http.server`` runs: a thread per connection) on the release
folder, with HTTP/1.1 keep-alive and a listen backlog of 1024 (as ``python -m http.server``
runs it, HTTP/1.0 closes every connection and a backlog of 5 drops the reconnections of 100
clients into timeouts, which would flatter the site).

The load comes from a lean closed-loop HTTP/1.1 client (``benchmarks/http_load.py``: raw
asyncio streams, keep-alive, uvloop when installed) in ``--client-procs`` processes of its
own, so the generator is not what is measured; its CPU and the servers' CPU are reported
beside the results, with the load average before and after (on a shared machine the numbers
move with the load; compare runs on an idle one).

1. Pages + downloads: each client loops over the dataset page, the release page and
   ``/status.json``, and every 5th request downloads the release's first data file, until the
   deadline. Reported: page requests, errors (any status but 200/304, a timeout or a broken
   connection), p50/p95/p99 latency of the pages.
2. Pages only: the same without the downloads (what the page path alone sustains).
3-4. Downloads: the clients download the release's data files for the same time from the
   site, then from the peer. Reported: MB/s of each and the ratio.

Targets (on the 2-core reference machine): zero errors, p95 page latency < 100 ms in (1),
downloads >= 50% of the static server. Only 127.0.0.1; every server is stopped at the end.
The flood of takedown submissions is ``benchmarks/serve_takedown.py``.

    python benchmarks/serve.py [--project demo/news] [--clients 100] [--seconds 30]
                               [--workers 2] [--client-procs 1]

Without ``--project`` (or when demo/news has no release yet) a project is built from the C4
sample in tests/data: one run and a release, in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import Plan, Result, quantiles, run  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
C4 = REPO / "tests" / "data" / "webtext" / "c4-en-sample-1000" / "c4_sample.jsonl.xz"
RECIPE = """\
[dataset]
name = "serve-bench"
description = "1,000 web pages from C4 (allenai/c4), served for the benchmark."
homepage = "https://example.org/serve-bench"

[[stewards]]
name = "Bench"
role = "maintainer"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
url_field = "url"
license = "ODC-By-1.0"
"""


#: The peer: ``python -m http.server DIR``, but keep-alive and a backlog for 100 clients.
PEER = """\
import functools, http.server, sys
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
http.server.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
Server(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_project(root: Path) -> Path:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    (root / "data").mkdir(parents=True)
    (root / "data" / "c4.jsonl").write_bytes(lzma.decompress(C4.read_bytes()))
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True, max_shard_bytes=1_000_000)
    return root


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_config(workers: int) -> str:
    """What uvicorn runs the site with (it picks uvloop and httptools when installed)."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{workers} worker{'s' if workers > 1 else ''}, loop {loop}, http {http}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn's workers)."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            t = proc.cpu_times()
            total += t.user + t.system
    except psutil.Error:
        pass
    return total


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def measure(plan: Plan, procs: int, server: subprocess.Popen[bytes]) -> tuple[Result, float]:
    """The plan's result and the server's CPU seconds during it."""
    before = cpu_seconds(server.pid)
    result = run(plan, procs)
    return result, cpu_seconds(server.pid) - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", type=Path, default=REPO / "demo" / "news")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="uvicorn workers of the site (2: one per core of the reference machine)",
    )
    ap.add_argument("--client-procs", type=int, default=1, help="load generator processes")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="serve-bench-")
    project = args.project
    if not (project / "releases").is_dir():
        print(f"{project} has no release: building one from the C4 sample in tests/data")
        project = build_project(Path(tmp.name) / "proj")
    from datasteward.release.format.manifest import read_manifest
    from datasteward.release.format.project import existing_versions, releases_dir

    version = str(existing_versions(project)[-1])
    release = releases_dir(project) / version
    manifest = read_manifest(release)
    data = [f.path for f in manifest.files if f.role == "data"]
    mb = sum(f.bytes for f in manifest.files if f.role == "data") / 1e6
    print(f"project {project}, release {version}: {len(data)} data files, {mb:.1f} MB")
    print(f"site: datasteward serve, {server_config(args.workers)}")
    print(
        "peer: http.server's ThreadingHTTPServer + SimpleHTTPRequestHandler, HTTP/1.1, "
        "listen backlog 1024"
    )
    print(f"load generator: {args.clients} clients in {args.client_procs} process(es), "
          f"raw HTTP/1.1 keep-alive")  # fmt: skip
    print(f"load average before: {load_average()} ({os.cpu_count()} cores)")

    site_port, static_port = free_port(), free_port()
    env = dict(os.environ, DATASTEWARD_WEB_SECRET="bench-" + "s" * 40)
    site = subprocess.Popen(
        [sys.executable, "-m", "datasteward", "serve", "--project", str(project), "--host",
         "127.0.0.1", "--port", str(site_port), "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    static = subprocess.Popen(
        [sys.executable, "-c", PEER, str(static_port), str(release)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    secs, n = args.seconds, args.clients
    try:
        wait_ready(f"http://127.0.0.1:{site_port}/status.json", site)
        wait_ready(f"http://127.0.0.1:{static_port}/manifest.json", static)
        pages = ("/", f"/releases/{version}", "/status.json")
        files = tuple(f"/releases/{version}/files/{p}" for p in data)
        print(f"1. pages + downloads (1 in 5 requests): {n} clients for {secs:.0f} s ...")
        mixed, mixed_cpu = measure(
            Plan(site_port, n, secs, pages=pages, files=files[:1], every=5),
            args.client_procs, site,
        )  # fmt: skip
        print(f"2. pages only: {n} clients for {secs:.0f} s ...")
        only, only_cpu = measure(Plan(site_port, n, secs, pages=pages), args.client_procs, site)
        print(f"3. downloads, site: {n} clients for {secs:.0f} s ...")
        down, down_cpu = measure(Plan(site_port, n, secs, files=files), args.client_procs, site)
        print(f"4. downloads, http.server: {n} clients for {secs:.0f} s ...")
        peer, peer_cpu = measure(
            Plan(static_port, n, secs, files=tuple(f"/{p}" for p in data)),
            args.client_procs, static,
        )  # fmt: skip
    finally:
        stop(site)
        stop(static)
        tmp.cleanup()

    def rate(r: Result) -> str:
        return f"{r.pages / r.elapsed:,.0f} pages/s" if r.elapsed else "n/a"

    def mbs(r: Result) -> float:
        return r.bytes / r.elapsed / 1e6 if r.elapsed else 0.0

    q1, q2 = quantiles(mixed.latencies), quantiles(only.latencies)
    rows = [
        ("1. pages + downloads", "", ""),
        ("   page requests", f"{mixed.pages:,} ({rate(mixed)})", ""),
        ("   file downloads (mixed in)", f"{mixed.downloads:,}", ""),
        ("   errors", f"{mixed.errors}", "target 0"),
        ("   page latency p50", f"{q1['p50']:.1f} ms", ""),
        ("   page latency p95", f"{q1['p95']:.1f} ms", "target < 100 ms"),
        ("   page latency p99", f"{q1['p99']:.1f} ms", ""),
        ("   CPU s: site / generator", f"{mixed_cpu:.1f} / {mixed.cpu:.1f}",
         f"in {mixed.elapsed:.1f} s"),
        ("2. pages only", "", ""),
        ("   page requests", f"{only.pages:,} ({rate(only)})", ""),
        ("   errors", f"{only.errors}", "target 0"),
        ("   page latency p50 / p95 / p99",
         f"{q2['p50']:.1f} / {q2['p95']:.1f} / {q2['p99']:.1f} ms", ""),
        ("   CPU s: site / generator", f"{only_cpu:.1f} / {only.cpu:.1f}",
         f"in {only.elapsed:.1f} s"),
        ("3-4. downloads", "", ""),
        ("   site", f"{mbs(down):.1f} MB/s ({down.downloads:,} files)", f"errors {down.errors}"),
        ("   http.server (peer)", f"{mbs(peer):.1f} MB/s ({peer.downloads:,} files)",
         f"errors {peer.errors}"),
        ("   site / peer", f"{mbs(down) / mbs(peer):.0%}" if mbs(peer) else "n/a", "target >= 50%"),
        ("   CPU s: site / peer / generator", f"{down_cpu:.1f} / {peer_cpu:.1f} / "
         f"{down.cpu + peer.cpu:.1f}", ""),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'':{width}}  value")
    for name, value, note in rows:
        print(f"{name:{width}}  {value:<32} {note}")
    print(f"load average after: {load_average()}; generator loop: {mixed.loop}")
    errors = mixed.first_errors + only.first_errors + down.first_errors + peer.first_errors
    if errors:
        print("first errors:", json.dumps(errors[:10]))


if __name__ == "__main__":
    main()
