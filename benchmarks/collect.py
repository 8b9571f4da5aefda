# ruff: noqa: T201  (a benchmark script prints its table)
"""Benchmark: collection. Images: datasteward's downloader against img2dataset.

    python benchmarks/collect.py                     # 2,000 image URLs on 16 local hosts
    python benchmarks/collect.py --images 500
    python benchmarks/collect.py --images 0 --pages 400   # only the page crawler

**Pages** (:mod:`collect_pages`): the crawler on one URL list of real article pages on 8 local
hosts, politeness off (``min_delay = 0``) and on (``--delay``), pages per CPU-second, and the
gaps the server saw between requests to one host.

**Images.** One run, one local server, one URL list: ``--images`` URLs spread over 16 hosts
(16 ports of 127.0.0.1, each its own politeness key), serving the 18 real Open Images CC-BY
photos (640x480 JPEGs, 41-147 kB) round-robin. About one URL in eight is opted out, in the
ways a site says it: ``X-Robots-Tag: noai`` (img2dataset honours it), ``tdm-reservation: 1``
on the image, a robots.txt that disallows ``/ai/`` to the AI agents (img2dataset and GPTBot
among them) and a ``tdmrep.json`` reserving ``/reserved/`` (img2dataset honours none of
these three). Both tools: 2 processes, resize to 256 px with ``border``, JPEG quality 95,
WebDataset output, X-Robots-Tag directives noai/noimageai/noindex/noimageindex.

* datasteward: ``collect images`` with ``processes = 2`` (the decode/resize workers; fetching
  runs in the main process), one connection per host, no delay (politeness "throughput").
* img2dataset: ``processes_count = 2``, ``thread_count = 32``, ``user_agent_token =
  img2dataset``.

CPU is the user+system time of every process each tool started: the benchmark makes itself a
child subreaper (``PR_SET_CHILD_SUBREAPER``), so orphaned workers (a forkserver's) come back
to it and are reaped, and reads ``RUSAGE_CHILDREN`` around each tool; a psutil poll of the
process tree is printed beside it as a cross-check. The server runs in this process (threads),
so its CPU is not counted. The table prints images kept per CPU-second and the ratio.

img2dataset runs from the same environment (``make bench-env`` installs it), or from the
Python named by ``--img2dataset-python`` / ``$IMG2DATASET_PYTHON`` when it needs a venv of its
own; without it the datasteward row is printed alone.
"""

from __future__ import annotations

import argparse
import ctypes
import http.server
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PHOTOS = REPO / ".." / "shared" / "data" / "image-text" / "openimages-cc-by-photos"
HOSTS = 16
ROBOTS_AI_HOST = 3  # robots.txt: Disallow /ai/ for img2dataset and GPTBot
TDMREP_HOST = 5  # /.well-known/tdmrep.json reserves /reserved/
DIRECTIVES = ["noai", "noimageai", "noindex", "noimageindex"]
SIZE, MODE, QUALITY = 256, "border", 95


# ---- the server ---------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        host: int = self.server.host_index  # type: ignore[attr-defined]
        photos: list[bytes] = self.server.photos  # type: ignore[attr-defined]
        path = self.path
        headers = {"Content-Type": "image/jpeg"}
        if path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
            if host == ROBOTS_AI_HOST:
                body = b"User-agent: img2dataset\nUser-agent: GPTBot\nDisallow: /ai/\n\n" + body
            headers = {"Content-Type": "text/plain"}
        elif path == "/.well-known/tdmrep.json" and host == TDMREP_HOST:
            body = json.dumps([{"location": "/reserved/*", "tdm-reservation": 1}]).encode()
            headers = {"Content-Type": "application/json"}
        elif path.endswith(".jpg"):
            kind, _, name = path.strip("/").partition("/")
            body = photos[int(name.split(".")[0]) % len(photos)]
            if kind == "noai":
                headers["X-Robots-Tag"] = "noai"
            elif kind == "tdm":
                headers["tdm-reservation"] = "1"
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def start_hosts(photos: list[bytes]) -> list[_Server]:
    servers = []
    for i in range(HOSTS):
        s = _Server(("127.0.0.1", 0), _Handler)
        s.host_index = i  # type: ignore[attr-defined]
        s.photos = photos  # type: ignore[attr-defined]
        threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(s)
    return servers


def url_list(servers: list[_Server], n: int) -> tuple[list[str], set[str], set[str]]:
    """The URLs, those opted out in any way, and those opted out by X-Robots-Tag."""
    urls, opted, header_opted = [], set(), set()
    for i in range(n):
        host = i % HOSTS
        base = f"http://127.0.0.1:{servers[host].server_address[1]}"
        if i % 50 == 7:
            kind = "noai"
        elif i % 50 == 13:
            kind = "tdm"
        elif host == ROBOTS_AI_HOST and (i // HOSTS) % 2 == 0:
            kind = "ai"
        elif host == TDMREP_HOST and (i // HOSTS) % 2 == 0:
            kind = "reserved"
        else:
            kind = "img"
        url = f"{base}/{kind}/{i}.jpg"
        urls.append(url)
        if kind != "img":
            opted.add(url)
        if kind == "noai":
            header_opted.add(url)
    return urls, opted, header_opted


# ---- CPU of a tool and everything it started -----------------------------------------------
def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)  # an orphan still running: wait for it
            continue


@dataclass
class Measured:
    cpu: float
    cpu_polled: float
    wall: float
    returncode: int


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measured:
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # cwd: the tool's own folder (a ray/ folder in the current one would shadow `import ray`)
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    seen: dict[int, float] = {}
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    t = p.cpu_times()
                    seen[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(err[-3000:], file=sys.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(cpu, sum(seen.values()), wall, proc.returncode)


# ---- the two tools --------------------------------------------------------------------------
DATASTEWARD = """
import sys
from pathlib import Path
from datasteward.collect.images import collect_images, job_from_config
from datasteward.recipe.model import load_recipe
recipe = load_recipe(Path(sys.argv[1]))
collect_images(job_from_config(recipe.collect[0], Path(sys.argv[1])))
"""

RECIPE = """
[dataset]
name = "collect-benchmark"

[[sources]]
name = "images"
format = "webdataset"
path = "collect/bench/*.tar"

[[collect]]
name = "bench"
kind = "images"
urls = "urls.parquet"
url_field = "url"
caption_field = "caption"
contact_url = "https://example.org/benchmark"
min_delay = 0.0
per_host = 1
concurrency = 32
retries = 0
image_size = {size}
resize_mode = "{mode}"
encode_quality = {quality}
shard_size = 1000
processes = 2
"""


def run_datasteward(work: Path) -> tuple[Measured, set[str]]:
    import pyarrow.parquet as pq

    (work / "datasteward.toml").write_text(
        RECIPE.format(size=SIZE, mode=MODE, quality=QUALITY), encoding="utf-8"
    )
    m = measure([sys.executable, "-c", DATASTEWARD, str(work)], work)
    index = pq.read_table(work / "collect" / "bench" / "index.parquet").to_pylist()
    return m, {r["url"] for r in index if r["status"] == "success"}


def run_img2dataset(work: Path, python: str) -> tuple[Measured, set[str]]:
    import pyarrow.parquet as pq

    out = work / "img2dataset"
    code = (
        "import sys; from img2dataset import download; download(url_list=sys.argv[1], "
        "input_format='parquet', url_col='url', caption_col='caption', output_folder="
        f"sys.argv[2], output_format='webdataset', processes_count=2, thread_count=32, "
        f"image_size={SIZE}, resize_mode='{MODE}', encode_quality={QUALITY}, "
        "encode_format='jpg', number_sample_per_shard=1000, distributor='multiprocessing', "
        "retries=0, timeout=10, enable_wandb=False, compute_hash='sha256', "
        f"user_agent_token='img2dataset', disallowed_header_directives={DIRECTIVES!r})"
    )
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1", WANDB_MODE="disabled")
    m = measure([python, "-c", code, str(work / "urls.parquet"), str(out)], work, env=env)
    kept: set[str] = set()
    for f in sorted(out.glob("*.parquet")):
        for r in pq.read_table(f, columns=["url", "status"]).to_pylist():
            if r["status"] == "success":
                kept.add(r["url"])
    return m, kept


def find_img2dataset(given: str | None) -> str | None:
    candidates = [given, os.environ.get("IMG2DATASET_PYTHON"), sys.executable]
    for py in candidates:
        if not py or not shutil.which(py):
            continue
        ok = subprocess.run(
            [py, "-c", "import img2dataset"],
            capture_output=True,
            cwd=REPO,
            env=dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1"),
            check=False,
        )
        if ok.returncode == 0:
            return py
    return None


def images(n: int, img2dataset_python: str | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    photos = [p.read_bytes() for p in sorted(PHOTOS.glob("*.jpg"))]
    if not photos:
        raise SystemExit(f"no photos under {PHOTOS}: the shared data folder is needed")
    servers = start_hosts(photos)
    urls, opted, header_opted = url_list(servers, n)
    results: list[tuple[str, Measured, set[str], str]] = []
    peer = find_img2dataset(img2dataset_python)
    runs: list[tuple[str, Callable[[Path], tuple[Measured, set[str]]], str]] = [
        (
            "datasteward",
            run_datasteward,
            "all: robots (AI agents), tdmrep.json, ai.txt, X-Robots-Tag, tdm-reservation",
        ),
    ]
    if peer is not None:
        runs.append(("img2dataset", lambda w: run_img2dataset(w, peer), "X-Robots-Tag only"))
    with tempfile.TemporaryDirectory(prefix="collect-bench-") as tmp:
        for name, fn, honours in runs:
            work = Path(tmp) / name
            work.mkdir()
            pq.write_table(
                pa.table({"url": urls, "caption": [f"photo {i}" for i in range(n)]}),
                work / "urls.parquet",
            )
            m, kept = fn(work)
            results.append((name, m, kept, honours))
    for s in servers:
        s.shutdown()
    allowed = n - len(opted)
    print(
        f"collect images: {n} URLs on {HOSTS} local hosts, {len(opted)} opted out "
        f"({len(header_opted)} by X-Robots-Tag), {allowed} allowed; {len(photos)} real "
        f"photos; 2 processes, {SIZE} px {MODE}, JPEG q{QUALITY}"
    )
    print(
        f"{'tool':<12} {'kept':>6} {'opt-outs ignored':>17} {'CPU s':>7} {'(psutil)':>9} "
        f"{'wall s':>7} {'images/CPU-s':>13}  opt-outs honoured"
    )
    rates = {}
    for name, m, kept, honours in results:
        rate = len(kept) / m.cpu if m.cpu else 0.0
        rates[name] = rate
        print(
            f"{name:<12} {len(kept):>6} {len(kept & opted):>17} {m.cpu:>7.2f} "
            f"{m.cpu_polled:>9.2f} {m.wall:>7.1f} {rate:>13.1f}  {honours}"
            + ("" if m.returncode == 0 else f"  (exit {m.returncode})")
        )
    if "img2dataset" in rates and rates["img2dataset"]:
        ratio = rates["datasteward"] / rates["img2dataset"]
        print(f"datasteward / img2dataset, images per CPU-second: {ratio:.2f}x")
    else:
        print(
            "img2dataset is not installed here (make bench-env, or --img2dataset-python): no ratio"
        )
    decode_cost(photos)


def decode_cost(photos: list[bytes], rounds: int = 10) -> None:
    """CPU per image of datasteward's check + resize + re-encode, with and without the
    reduced-scale JPEG decode (``ImageOptions.fast_decode``), in this process."""
    from datasteward.collect.imaging import ImageOptions, process_image

    process_image(photos[0], ImageOptions())  # imports, first-call setup
    cost = {}
    for fast in (True, False):
        opts = ImageOptions(
            image_size=SIZE, resize_mode=MODE, encode_quality=QUALITY, fast_decode=fast
        )
        start = time.process_time()
        for _ in range(rounds):
            for data in photos:
                process_image(data, opts)
        cost[fast] = (time.process_time() - start) / (rounds * len(photos)) * 1000
    print(
        f"process_image, CPU per photo ({rounds} rounds of {len(photos)}): "
        f"{cost[True]:.2f} ms with the reduced-scale JPEG decode, {cost[False]:.2f} ms "
        "without"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000, help="image URLs (default 2000)")
    ap.add_argument("--pages", type=int, default=400, help="page URLs for the crawler (0: skip)")
    ap.add_argument("--delay", type=float, default=0.1, help="min_delay of the polite crawl")
    ap.add_argument(
        "--img2dataset-python",
        default=None,
        help="a Python with img2dataset installed (default: this one)",
    )
    args = ap.parse_args()
    if not become_subreaper():
        print("(not a child subreaper: CPU of orphaned worker processes may be missed)")
    if args.images:
        images(args.images, args.img2dataset_python)
    if args.pages:  # the pages half: benchmarks/collect_pages.py (collect pages, #16 A)
        sys.path.insert(0, str(Path(__file__).parent))
        from collect_pages import pages_benchmark

        print()
        pages_benchmark(args.pages, args.delay)


if __name__ == "__main__":
    main()
