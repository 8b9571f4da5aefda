# ruff: noqa: T201 - a benchmark script prints its table
"""The takedown form under a flood: 1,000 submissions from one address while 10 legitimate
ones from other addresses are interleaved with it (one after every 100 flood POSTs).

Target: the flood is rate-limited (the site's ``takedown`` throttle: 5 POSTs a minute per
client address; everything past it answers 429) while all 10 legitimate requests are accepted
(303) and recorded in the ledger. Client addresses differ for real: the flooder connects from
127.0.0.1, each legitimate person from its own 127.0.0.x (the loopback network), so the site
sees them as the rate limiter does in production (no trusted header).

``takedown_flood(url, ...)`` is the measurement (``benchmarks/serve.py`` may call it against
a site whose recipe names an SMTP server); run alone, this script builds a project from the C4
sample in tests/data, starts a local SMTP server (aiosmtpd) and ``datasteward serve`` on
127.0.0.1, floods it, and prints the table. Only 127.0.0.1/8; every server is stopped.

    python benchmarks/serve_takedown.py [--flood 1000] [--legit 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import build_project, free_port, stop, wait_ready  # noqa: E402

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def _client(base: str, address: str) -> tuple[httpx.AsyncClient, str]:
    """A client connecting from ``address`` with the form's CSRF token."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    client = httpx.AsyncClient(base_url=base, transport=transport, timeout=30)
    form = await client.get("/takedown")
    m = _CSRF.search(form.text)
    if not m:
        raise SystemExit(f"no CSRF token on {base}/takedown ({form.status_code})")
    return client, m.group(1)


async def _post(client: httpx.AsyncClient, token: str, value: str, email: str) -> int:
    data = {
        "kind": "url",
        "value": value,
        "category": "copyright",
        "explanation": "benchmark",
        "email": email,
        "_csrf_token": token,
    }
    r = await client.post("/takedown", files={"_": ("", b"")}, data=data)
    return r.status_code


async def flood_async(base: str, flood: int, legit: int) -> dict[str, Any]:
    flooder, token = await _client(base, "127.0.0.1")
    people = [await _client(base, f"127.0.0.{i + 2}") for i in range(legit)]
    every = max(1, flood // max(1, legit))
    statuses: dict[int, int] = {}
    legit_status: list[int] = []
    start = time.perf_counter()
    try:
        for i in range(flood):
            s = await _post(flooder, token, f"https://flood.example/{i}", "flood@example.net")
            statuses[s] = statuses.get(s, 0) + 1
            if i % every == every - 1 and len(legit_status) < legit:
                n = len(legit_status)
                client, tok = people[n]
                legit_status.append(
                    await _post(client, tok, f"https://example.org/mine/{n}", f"p{n}@example.net")
                )
    finally:
        await flooder.aclose()
        for c, _ in people:
            await c.aclose()
    return {"flood": statuses, "legit": legit_status, "seconds": time.perf_counter() - start}


def takedown_flood(
    base: str, project: Path, *, flood: int = 1000, legit: int = 10
) -> dict[str, Any]:
    """Flood ``base``'s takedown form; returns the answers and what the ledger recorded."""
    from datasteward.ledger import Ledger

    out = asyncio.run(flood_async(base, flood, legit))
    with Ledger.open(project) as ledger:
        emails = {r["email"] for r in ledger.list_web_requests()}
    out["legit_recorded"] = sum(f"p{n}@example.net" in emails for n in range(legit))
    out["flood_recorded"] = int("flood@example.net" in emails)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flood", type=int, default=1000)
    ap.add_argument("--legit", type=int, default=10)
    args = ap.parse_args()
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            return "250 OK"

    smtp_port, site_port = free_port(), free_port()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    tmp = tempfile.TemporaryDirectory(prefix="serve-takedown-")
    site = None
    try:
        project = build_project(Path(tmp.name) / "proj")
        recipe = project / "datasteward.toml"
        recipe.write_text(
            recipe.read_text("utf-8") + f'\n[web]\nsmtp_url = "smtp://127.0.0.1:{smtp_port}"\n',
            "utf-8",
        )
        env = dict(os.environ, DATASTEWARD_WEB_SECRET="bench-" + "s" * 40)
        site = subprocess.Popen(
            [sys.executable, "-m", "datasteward", "serve", "--project", str(project),
             "--host", "127.0.0.1", "--port", str(site_port), "--dev"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{site_port}"
        wait_ready(url + "/status.json", site)
        print(
            f"flooding {url}/takedown: {args.flood} POSTs from 127.0.0.1, {args.legit} "
            f"legitimate ones interleaved from 127.0.0.2-{args.legit + 1} ..."
        )
        out = takedown_flood(url, project, flood=args.flood, legit=args.legit)
    finally:
        if site is not None:
            stop(site)
        smtp.stop()
        tmp.cleanup()
    flood = out["flood"]
    # --dev: cookies without the Secure flag, so this plain-http client sends them back
    rows = [
        ("flood POSTs", f"{sum(flood.values()):,}", ""),
        ("  accepted (303)", f"{flood.get(303, 0):,}", "the throttle's budget: 5 a minute"),
        ("  refused (429)", f"{flood.get(429, 0):,}", ""),
        ("  other", f"{sum(v for k, v in flood.items() if k not in (303, 429)):,}", "target 0"),
        ("legitimate POSTs", f"{len(out['legit'])}", ""),
        ("  accepted (303)", f"{out['legit'].count(303)}", f"target {args.legit}"),
        ("  recorded in the ledger", f"{out['legit_recorded']}", f"target {args.legit}"),
        ("answers (flood; legitimate)", f"{flood}; {out['legit']}", ""),
        ("seconds", f"{out['seconds']:.1f}", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"{name:{width}}  {value:<10} {note}")


if __name__ == "__main__":
    main()
