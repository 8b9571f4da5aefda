# ruff: noqa: T201 - a benchmark script prints its table
"""``datasteward serve`` under load: 100 concurrent clients for 30 s on the public pages and
downloads of a project's newest release, against a plain static file server on the same files.

1. The site: ``datasteward serve --dev`` (uvicorn) on 127.0.0.1. Clients loop over the dataset
   page, the release page, ``/status.json`` and one data file of the release, until the
   deadline (bounded loops). Reported: requests, errors, p50/p95/p99 latency of the pages.
2. Downloads: the same number of clients download the release's data files for the same time
   from the site, then from ``python -m http.server`` serving the release directory (the
   peer). Reported: MB/s of each and the ratio (target >= 50%).

Targets (on the 2-core reference machine): zero errors, p95 page latency < 100 ms, downloads
>= 50% of the static server. Only 127.0.0.1; every server is stopped at the end.

    python benchmarks/serve.py [--project demo/news] [--clients 100] [--seconds 30]

Without ``--project`` (or when demo/news has no release yet) a project is built from the C4
sample in tests/data: one run and a release, in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import lzma
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

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


async def page_load(base: str, paths: list[str], download: str, clients: int, seconds: float
                    ) -> dict[str, object]:  # fmt: skip
    latencies: list[float] = []
    errors: list[str] = []
    downloads = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(i: int) -> None:
            nonlocal downloads
            k = i
            while time.monotonic() < deadline:  # bounded: stops at the deadline
                k += 1
                if k % 5 == 4:
                    r = await client.get(download)
                    downloads += 1
                    if r.status_code != 200:
                        errors.append(f"{download}: {r.status_code}")
                    continue
                path = paths[k % len(paths)]
                t = time.perf_counter()
                try:
                    r = await client.get(path)
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                    continue
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors.append(f"{path}: {r.status_code}")

        await asyncio.gather(*(worker(i) for i in range(clients)))
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"pages": len(latencies), "downloads": downloads, "errors": errors,
            "p50": q[49], "p95": q[94], "p99": q[98]}  # fmt: skip


async def download_load(base: str, files: list[str], clients: int, seconds: float
                        ) -> tuple[float, int, list[str]]:  # fmt: skip
    """(MB/s, files, errors) downloading ``files`` round-robin with ``clients`` clients."""
    total = 0
    count = 0
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker(i: int) -> None:
            nonlocal total, count
            k = i
            while time.monotonic() < deadline:
                path = files[k % len(files)]
                k += 1
                try:
                    async with client.stream("GET", path) as r:
                        if r.status_code != 200:
                            errors.append(f"{path}: {r.status_code}")
                        async for chunk in r.aiter_bytes(1 << 16):
                            total += len(chunk)
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                    continue
                count += 1

        await asyncio.gather(*(worker(i) for i in range(clients)))
    return total / (time.perf_counter() - start) / 1e6, count, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", type=Path, default=REPO / "demo" / "news")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of the site")
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

    site_port, static_port = free_port(), free_port()
    env = dict(os.environ, DATASTEWARD_WEB_SECRET="bench-" + "s" * 40)
    site = subprocess.Popen(
        [sys.executable, "-m", "datasteward", "serve", "--project", str(project), "--host",
         "127.0.0.1", "--port", str(site_port), "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    static = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1",
         "--directory", str(release)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        site_url, static_url = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{static_port}"
        wait_ready(site_url + "/status.json", site)
        wait_ready(static_url + "/manifest.json", static)
        pages = ["/", f"/releases/{version}", "/status.json"]
        file_url = f"/releases/{version}/files/{data[0]}"
        print(f"pages + downloads: {args.clients} clients for {args.seconds:.0f} s ...")
        load = asyncio.run(page_load(site_url, pages, file_url, args.clients, args.seconds))
        print(f"downloads, site: {args.clients} clients for {args.seconds:.0f} s ...")
        site_mbs, site_n, site_err = asyncio.run(download_load(
            site_url, [f"/releases/{version}/files/{p}" for p in data], args.clients,
            args.seconds))  # fmt: skip
        print(f"downloads, http.server: {args.clients} clients for {args.seconds:.0f} s ...")
        peer_mbs, peer_n, peer_err = asyncio.run(
            download_load(static_url, [f"/{p}" for p in data], args.clients, args.seconds)
        )
    finally:
        stop(site)
        stop(static)
        tmp.cleanup()

    errors = list(load["errors"]) + site_err  # type: ignore[call-overload]
    rows = [
        ("page requests", f"{load['pages']:,}", ""),
        ("file downloads (mixed in)", f"{load['downloads']:,}", ""),
        ("errors (site)", f"{len(errors)}", "target 0"),
        ("page latency p50", f"{load['p50'] * 1000:.1f} ms", ""),  # type: ignore[operator]
        ("page latency p95", f"{load['p95'] * 1000:.1f} ms", "target < 100 ms"),  # type: ignore[operator]
        ("page latency p99", f"{load['p99'] * 1000:.1f} ms", ""),  # type: ignore[operator]
        ("downloads, site", f"{site_mbs:.1f} MB/s ({site_n:,} files)", ""),
        (
            "downloads, http.server (peer)",
            f"{peer_mbs:.1f} MB/s ({peer_n:,} files)",
            f"errors {len(peer_err)}",
        ),  # fmt: skip
        ("site / peer", f"{site_mbs / peer_mbs:.0%}" if peer_mbs else "n/a", "target >= 50%"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'':{width}}  value")
    for name, value, note in rows:
        print(f"{name:{width}}  {value:<28} {note}")
    if errors:
        print("first errors:", json.dumps(errors[:5]))


if __name__ == "__main__":
    main()
