"""Helpers for the takedown and review tests: a small demo-like project (real C4 pages from
tests/data, one run, release 1.0.0) and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import lzma
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
C4 = REPO / "tests" / "data" / "webtext" / "c4-en-sample-1000" / "c4_sample.jsonl.xz"


def c4_recipe(name: str) -> str:
    """The recipe of the site's test projects: C4 pages, one length filter."""
    return f"""\
[dataset]
name = "{name}"
description = "Web pages from C4 (allenai/c4), for the stewardship site's tests."
homepage = "https://example.org/{name}"

[[stewards]]
name = "Ana Ruiz"
email = "ana@example.org"
role = "maintainer"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"
attribution = "AllenAI C4"

[[steps]]
use = "filter.length"
min_words = 80
"""


RECIPE = c4_recipe("news-demo")


def c4_lines(n: int) -> list[str]:
    """The first ``n`` lines of the C4 sample, as published."""
    return lzma.decompress(C4.read_bytes()).decode("utf-8").splitlines()[:n]


def c4_rows(n: int) -> list[dict[str, Any]]:
    return [json.loads(line) for line in c4_lines(n)]


def build_project(root: Path, *, records: int = 60) -> Path:
    """A project with one run over ``records`` real C4 pages and draft release 1.0.0."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    (root / "data").mkdir(parents=True)
    rows = c4_rows(records)
    (root / "data" / "c4.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True)
    return root


def copy_project(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def released_urls(project: Path, version: str = "1.0.0") -> list[str]:
    import pyarrow.parquet as pq

    files = sorted((project / "releases" / version / "data").glob("*.parquet"))
    urls: list[str] = []
    for f in files:
        urls += [u for u in pq.read_table(f, columns=["source_uri"]).column(0).to_pylist() if u]
    return urls


@dataclass
class Inbox:
    """What the local SMTP server received."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def wait_for(self, n: int, *, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then closed): a mail server that is down."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_mail(project: Path, smtp_url: str) -> None:
    """Append a ``[web]`` table to the project's recipe: mail through ``smtp_url`` (the test's
    SMTP server), links under http://127.0.0.1."""
    recipe = project / "datasteward.toml"
    recipe.write_text(
        recipe.read_text("utf-8")
        + f'\n[web]\nsmtp_url = "{smtp_url}"\nmail_from = "stewards@example.org"\n'
        + 'base_url = "http://127.0.0.1"\n',
        "utf-8",
    )


def wait_job(c: Any, rid: int, *, timeout: float = 90.0) -> str:
    """The triage page of takedown request ``rid`` once its background job is done or failed
    (polled through the steward's client ``c``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = str(c.get(f"/manage/takedowns/{rid}").text)
        state = re.search(r'id="job" data-state="(\w+)"', page)
        if state and state.group(1) in ("done", "failed"):
            return page
        time.sleep(0.2)
    raise AssertionError(f"job of request #{rid} did not finish in {timeout} s")


def takedown_executed(wp: Any, inbox: Inbox, url: str) -> int:
    """Through the site ``wp`` (a ``web_kit.WebProject``): a person files a takedown of ``url``
    with an evidence file and confirms it from the e-mail ``inbox`` receives, a maintainer
    approves it and its job finishes. Returns the request id."""
    from web_kit import csrf

    anon = wp.client()
    seen = len(inbox.messages)
    r = anon.post(
        "/takedown",
        data={"kind": "url", "value": url, "category": "privacy",
              "explanation": "This page names me.", "email": "person@example.net",
              "_csrf_token": csrf(anon, "/takedown")},
        files={"evidence": ("note.txt", b"my name is on it", "text/plain")},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    confirm = re.search(r"/takedown/confirm/(\S+)", body(inbox.wait_for(seen + 1)[seen]))
    assert confirm
    path = f"/takedown/confirm/{confirm.group(1)}"
    assert anon.post(path, data={"_csrf_token": csrf(anon, path)}).status_code == 200
    with wp.ledger() as ledger:
        rid = int(ledger.list_web_requests()[0]["request_id"])
    steward = wp.client("maintainer")
    token = csrf(steward, f"/manage/takedowns/{rid}")
    approve = steward.post(f"/manage/takedowns/{rid}/approve", data={"_csrf_token": token})
    assert approve.status_code == 200, approve.text
    assert 'data-state="done"' in wait_job(steward, rid)
    return rid


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, on a free port, for the test's duration."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            inbox.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def body(msg: Message) -> str:
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


#: Records whose text and URLs try to run script in the page that shows them: each sets
#: ``window.__pwned`` if it ever executes.
HOSTILE = [
    {"url": "https://evil.example/1", "text": "<script>window.__pwned = 1</script> "},
    {"url": 'https://evil.example/2?q="><img src=x onerror="window.__pwned=2">',
     "text": '"><img src=x onerror="window.__pwned=2"> '},
    {"url": "javascript:window.__pwned=3", "text": "<svg onload=\"window.__pwned=3\"></svg> "},
    {"url": "https://evil.example/4",
     "text": "</pre><a href=\"javascript:window.__pwned=4\">x</a> "},
]  # fmt: skip


def hostile_rows() -> list[dict[str, Any]]:
    """The hostile records, with real offensive words (LDNOOBW, tests/data) so they are
    long enough to pass the length filter."""
    words = (REPO / "tests" / "data" / "ldnoobw" / "en").read_text("utf-8").split()
    return [
        {**h, "timestamp": "2019-04-25T12:57:54Z",
         "text": h["text"] + " ".join(words[i * 20 : i * 20 + 90])}
        for i, h in enumerate(HOSTILE)
    ]  # fmt: skip


def add_sample(project: Path, *, items: int = 10, hostile: bool = False) -> int:
    """A review sample as `datasteward sample` draws it (by reason, seed 0), recorded in the
    ledger; with ``hostile``, every record is drawn and the hostile ones come first."""
    from datasteward.audit.review import draw_sample
    from datasteward.ledger import Ledger
    from datasteward.runs.find import find_run

    run_dir = find_run(project)
    per = 100_000 if hostile else items
    drawn, records = draw_sample(run_dir, outcome="all", by="reason", per_stratum=per, seed=0)
    if hostile:
        uris = {rid: str(r.get("source_uri")) for rid, r in records.items()}
        evil = {i for i, u in uris.items() if "evil.example" in u or u.startswith("javascript:")}
        drawn = [d for d in drawn if d["record_id"] in evil] + [
            d for d in drawn if d["record_id"] not in evil
        ]
    with Ledger.open(project) as ledger:
        return ledger.record_sample(
            run_id=run_dir.name,
            name="web review",
            spec={"outcome": "all", "by": "reason", "per_stratum": per, "seed": 0},
            items=drawn[:items],
        )


def build_hostile_project(root: Path, *, records: int = 40) -> Path:
    """Like :func:`build_project`, with the hostile records among the C4 pages."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    (root / "data").mkdir(parents=True)
    rows = c4_rows(records) + hostile_rows()
    (root / "data" / "c4.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    return root
