"""A lean closed-loop HTTP/1.1 load generator for ``benchmarks/serve.py``.

Each client holds one keep-alive connection (raw asyncio streams; uvloop when installed) and
sends its next GET as soon as the previous answer is read, until the deadline (bounded loops,
and every request has a timeout). The clients are spread over one or more processes so the
generator is not the bottleneck; each process reports the CPU it used. Any status other than
200/304, a timeout or a broken connection counts as an error (the connection is reopened).
Only ``127.0.0.1``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from dataclasses import dataclass, field

#: Seconds one request may take before it counts as an error.
REQUEST_TIMEOUT = 60.0
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Plan:
    port: int
    clients: int
    seconds: float
    #: Page paths the clients cycle through (their latency is measured).
    pages: tuple[str, ...] = ()
    #: Download paths the clients cycle through (bytes are counted).
    files: tuple[str, ...] = ()
    #: In a mixed plan, every ``every``-th request of a client is a download (0: never).
    every: int = 0


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # pages, seconds
    pages: int = 0
    downloads: int = 0
    bytes: int = 0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: float = 0.0  # the generator's own CPU seconds (user + system, all processes)
    loop: str = "asyncio"

    def merge(self, other: Result) -> None:
        self.latencies.extend(other.latencies)
        self.pages += other.pages
        self.downloads += other.downloads
        self.bytes += other.bytes
        self.errors += other.errors
        self.first_errors.extend(other.first_errors[: max(0, 10 - len(self.first_errors))])
        self.elapsed = max(self.elapsed, other.elapsed)
        self.cpu += other.cpu
        self.loop = other.loop


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, int, bool]:
    """(status, body bytes, keep-alive) of one GET on an open connection."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    version, status_code = lines[0].split(b" ", 2)[:2]
    status = int(status_code)
    length = -1
    chunked = False
    keep = version == b"HTTP/1.1"  # an HTTP/1.0 server (http.server) closes after each answer
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    size = 0
    if chunked:
        while True:
            n = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(n + 2)
            size += n
            if n == 0:
                break
    elif length >= 0:
        while size < length:
            chunk = await reader.read(min(1 << 18, length - size))
            if not chunk:
                raise ConnectionError("connection closed inside a body")
            size += len(chunk)
    elif status not in (204, 304):
        raise ValueError("a response without a length")
    return status, size, keep


async def _run(plan: Plan, first: int, count: int, start_at: float) -> Result:
    result = Result()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    deadline = t0 + plan.seconds

    def request(path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{plan.port}\r\n\r\n".encode()

    page_requests = [request(p) for p in plan.pages]
    file_requests = [request(p) for p in plan.files]

    def error(what: str) -> None:
        result.errors += 1
        if len(result.first_errors) < 10:
            result.first_errors.append(what)

    async def client(i: int) -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        k = i
        while time.monotonic() < deadline:  # bounded: no new request after the deadline
            k += 1
            download = not page_requests or (plan.every and k % plan.every == plan.every - 1)
            req = file_requests[k % len(file_requests)] if download else page_requests[
                k % len(page_requests)]  # fmt: skip
            t = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    if conn is None:
                        conn = await asyncio.open_connection(HOST, plan.port, limit=1 << 18)
                    status, size, keep = await _get(*conn, req)
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                error(f"{req.split(b' ')[1].decode()}: {type(exc).__name__} {exc}")
                if conn is not None:
                    conn[1].close()
                conn = None
                continue
            elapsed = time.perf_counter() - t
            if status not in (200, 304):
                error(f"{req.split(b' ')[1].decode()}: HTTP {status}")
            elif download:
                result.downloads += 1
                result.bytes += size
            else:
                result.pages += 1
                result.latencies.append(elapsed)
            if not keep:
                conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    await asyncio.gather(*(client(i) for i in range(first, first + count)))
    result.elapsed = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return result


def _process(plan: Plan, first: int, count: int, start_at: float) -> Result:
    """One generator process: its share of the clients on its own event loop."""
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_run(plan, first, count, start_at))
        result.loop = "asyncio"
        return result
    result = uvloop.run(_run(plan, first, count, start_at))
    result.loop = "uvloop"
    return result


def run(plan: Plan, processes: int = 1) -> Result:
    """Run ``plan`` with its clients split over ``processes`` processes (started fresh)."""
    processes = max(1, min(processes, plan.clients))
    shares = [plan.clients // processes + (i < plan.clients % processes) for i in range(processes)]
    firsts = [sum(shares[:i]) for i in range(processes)]
    start_at = time.time() + 2.0  # every process starts its clients at the same moment
    if processes == 1:
        return _process(plan, 0, plan.clients, start_at)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        parts = pool.starmap(
            _process, [(plan, f, n, start_at) for f, n in zip(firsts, shares, strict=True)]
        )
    total = Result()
    for part in parts:
        total.merge(part)
    return total


def quantiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) of ``values``, in milliseconds."""
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    s = sorted(values)

    def q(p: float) -> float:
        return s[min(len(s) - 1, max(0, round(p * len(s)) - 1))] * 1000

    return {"p50": q(0.50), "p95": q(0.95), "p99": q(0.99)}


__all__ = ["Plan", "Result", "quantiles", "run"]
