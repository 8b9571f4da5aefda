"""`collect images` against real servers on 127.0.0.1 serving the Open Images CC-BY photos with
every opt-out signal, robots rules, TDMRep, redirects, 429 + Retry-After, broken bodies and
bombs; politeness checked from the servers' own logs; kill -9 and resume."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

pytest.importorskip("PIL", reason="collect images needs the `collect` extra (pillow)")
pytest.importorskip("imagehash", reason="collect images needs the `collect` extra (imagehash)")

from collect_server import Page, Silent, Site, gaps  # noqa: E402
from datafiles import shared  # noqa: E402

from datasteward.collect.fetch import FetchOptions, user_agent  # noqa: E402
from datasteward.collect.images import ImagesJob, collect_images  # noqa: E402
from datasteward.collect.imaging import ImageOptions  # noqa: E402
from datasteward.collect.politeness import Politeness  # noqa: E402
from datasteward.recipe.model import SourceConfig  # noqa: E402
from datasteward.sources import Shard, reader_for  # noqa: E402

FOLDER = ("image-text", "openimages-cc-by-photos")
JPEG = {"Content-Type": "image/jpeg"}
DELAY = 0.1
#: Server timestamps share the GIL with the client: a gap can look this much shorter.
SLACK = 0.03
FETCH = FetchOptions(
    user_agent=user_agent("https://example.org/contact", token="datasteward"),
    connect_timeout=2.0,
    read_timeout=2.0,
    total_timeout=5.0,
    max_body_bytes=2_000_000,
    backoff_base=0.05,
    retries=2,
)


def credits() -> list[dict[str, str]]:
    with shared(*FOLDER, "credits.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def photo(row: dict[str, str]) -> bytes:
    return shared(*FOLDER, f"{row['ImageID']}.jpg").read_bytes()


def png_bomb() -> bytes:
    from test_images_imaging import png_bomb as make

    return make(40_000, 40_000)


@pytest.fixture
def sites():
    made: list[Site] = []

    def make(routes: dict[str, Any]) -> Site:
        s = Site(routes)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def write_list(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["url", "caption", "license"])
        w.writerows(rows)
    return path


def job(tmp: Path, urls: Path, **kw: Any) -> ImagesJob:
    settings: dict[str, Any] = {
        "name": "imgs",
        "urls": urls,
        "output": tmp / "out",
        "shard_size": 4,
        "processes": 1,
        "image": ImageOptions(image_size=64),
        "fetch": FETCH,
        "politeness": Politeness(min_delay=DELAY, concurrency=8),
    }
    settings.update(kw)
    return ImagesJob(**settings)


def index_rows(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "index.parquet").to_pylist()


@pytest.mark.slow
def test_every_signal_and_failure_counted(
    tmp_path: Path, sites, request: pytest.FixtureRequest
) -> None:
    rows = credits()
    pics = {r["ImageID"]: photo(r) for r in rows}
    ids = [r["ImageID"] for r in rows]
    robots_ok = Page(b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    main = sites(
        {
            "/robots.txt": robots_ok,
            **{f"/img/{i}.jpg": Page(pics[i], headers=JPEG) for i in ids[:6]},
            "/noai.jpg": Page(pics[ids[6]], headers={**JPEG, "X-Robots-Tag": "noai"}),
            "/noimageai.jpg": Page(
                pics[ids[7]], headers={**JPEG, "X-Robots-Tag": "noimageai, noindex"}
            ),
            "/tdm.jpg": Page(pics[ids[8]], headers={**JPEG, "tdm-reservation": "1"}),
            "/ours.jpg": Page(
                pics[ids[1]], headers={**JPEG, "X-Robots-Tag": "datasteward: noimageai"}
            ),
            "/theirs.jpg": Page(
                pics[ids[2]], headers={**JPEG, "X-Robots-Tag": "googlebot: noimageai"}
            ),
            "/moved.jpg": Page(b"", 301, {"Location": "/img/" + ids[0] + ".jpg"}),
            "/busy.jpg": [
                Page(b"slow down", 429, {"Retry-After": "1"}),
                Page(pics[ids[9]], headers=JPEG),
            ],
            "/truncated.jpg": Page(pics[ids[10]][:5000], headers=JPEG),
            "/bomb.png": Page(png_bomb(), headers={"Content-Type": "image/png"}),
            "/page.jpg": Page(b"<!doctype html><html><body>soft 404</body></html>"),
        }
    )
    guarded = sites(
        {
            "/robots.txt": Page(
                b"User-agent: datasteward\nDisallow: /private/\n\n"
                b"User-agent: GPTBot\nDisallow: /ai/\n",
                headers={"Content-Type": "text/plain"},
            ),
            "/private/a.jpg": Page(pics[ids[11]], headers=JPEG),
            "/ai/b.jpg": Page(pics[ids[12]], headers=JPEG),
            "/open/c.jpg": Page(pics[ids[13]], headers=JPEG),
        }
    )
    tdmrep = sites(
        {
            "/robots.txt": robots_ok,
            "/.well-known/tdmrep.json": Page(
                json.dumps([{"location": "/reserved/*", "tdm-reservation": 1}]).encode(),
                headers={"Content-Type": "application/json"},
            ),
            "/ai.txt": Page(
                b"User-agent: *\nDisallow: /aitxt/\n", headers={"Content-Type": "text/plain"}
            ),
            "/reserved/d.jpg": Page(pics[ids[14]], headers=JPEG),
            "/aitxt/g.jpg": Page(pics[ids[17]], headers=JPEG),
            "/free/e.jpg": Page(pics[ids[15]], headers=JPEG),
        }
    )
    silent = Silent()  # accepts connections, never answers
    request.addfinalizer(silent.close)
    down = sites(
        {
            "/robots.txt": Page(b"oops", 503, {"Content-Type": "text/plain"}),
            "/f.jpg": Page(pics[ids[16]], headers=JPEG),
        }
    )
    listing = [
        *[
            (main.url(f"/img/{i}.jpg"), r["Title"], r["License"])
            for i, r in zip(ids[:6], rows[:6], strict=True)
        ],
        (main.url("/noai.jpg"), "noai", ""),
        (main.url("/noimageai.jpg"), "noimageai", ""),
        (main.url("/tdm.jpg"), "tdm header", ""),
        (main.url("/moved.jpg"), "moved", ""),
        (main.url("/ours.jpg"), "scoped to us", ""),
        (main.url("/theirs.jpg"), "googlebot", ""),
        (main.url("/busy.jpg"), "busy", ""),
        (main.url("/truncated.jpg"), "cut", ""),
        (main.url("/bomb.png"), "bomb", ""),
        (main.url("/page.jpg"), "html", ""),
        (main.url("/missing.jpg"), "404", ""),
        (guarded.url("/private/a.jpg"), "private", ""),
        (guarded.url("/ai/b.jpg"), "ai", ""),
        (guarded.url("/open/c.jpg"), "open", ""),
        (tdmrep.url("/reserved/d.jpg"), "reserved", ""),
        (tdmrep.url("/free/e.jpg"), "free", ""),
        (tdmrep.url("/aitxt/g.jpg"), "ai.txt", ""),
        (down.url("/f.jpg"), "robots 503", ""),
        (silent.url("/h.jpg"), "never answers", ""),
        ("ftp://example.org/x.jpg", "ftp", ""),
        ("not a url", "bad", ""),
    ]
    urls = write_list(tmp_path / "list.csv", listing)
    summary = collect_images(job(tmp_path, urls))

    assert summary.rows == len(listing) == 27
    # the clean six, moved, busy, googlebot-only opt-out, open/c, free/e
    assert summary.success == 6 + 1 + 1 + 1 + 1 + 1
    assert dict(summary.failures) == {
        # noai, noimageai, "datasteward: noimageai", tdm header; robots for GPTBot,
        # tdmrep.json, ai.txt
        "opted_out": 7,
        "corrupt": 1,
        "image_too_large": 1,
        "not_an_image": 1,
        "http_404": 1,
        "robots_disallowed": 1,
        "robots_unreachable": 2,  # a 503 on robots.txt; a host that never answers
        "unsupported_scheme": 1,
        "bad_url": 1,
    }
    # opt-outs known before the fetch were not fetched; header opt-outs were fetched, not kept
    assert "/ai/b.jpg" not in guarded.paths() and "/private/a.jpg" not in guarded.paths()
    assert "/reserved/d.jpg" not in tdmrep.paths() and "/f.jpg" not in down.paths()
    assert "/aitxt/g.jpg" not in tdmrep.paths()
    assert "/noai.jpg" in main.paths()
    assert main.paths().count("/busy.jpg") == 2  # the 429, then the image after Retry-After
    # politeness from the servers' own logs: one request at a time per host, the delay held
    for site in (main, guarded, tdmrep, down):
        assert site.max_in_flight == 1
        held = gaps(site.log)
        assert min(held, default=DELAY) >= DELAY - SLACK
        assert sorted(held)[len(held) // 2] >= DELAY if held else True
    busy = sorted((h for h in main.log if h.path == "/busy.jpg"), key=lambda h: h.start)
    assert busy[1].start - busy[0].end >= 0.95  # Retry-After: 1
    assert all(h.user_agent.startswith("datasteward/") for h in main.log)

    index = {r["url"]: r for r in index_rows(summary.output)}
    assert index[main.url("/noai.jpg")]["decision"] == "opted_out"
    sig = json.loads(index[tdmrep.url("/reserved/d.jpg")]["signals"])
    assert sig["tdm_reservation"] == 1 and sig["optout"][0]["reason"] == "optout_tdmrep"
    sig = json.loads(index[guarded.url("/ai/b.jpg")]["signals"])
    assert sig["optout"][0]["reason"] == "optout_robots" and "GPTBot" in sig["optout"][0]["detail"]
    assert index[main.url("/missing.jpg")]["http_status"] == 404
    sig = json.loads(index[tdmrep.url("/aitxt/g.jpg")]["signals"])
    assert sig["optout"][0]["reason"] == "optout_ai_txt" and sig["ai_txt_present"] is True

    # the kept samples: image, caption, JSON with provenance
    samples: dict[str, dict[str, Any]] = {}
    for tar in sorted(summary.output.glob("*.tar")):
        with tarfile.open(tar) as tf:
            for m in tf.getmembers():
                if m.name.endswith(".json"):
                    meta = json.loads(tf.extractfile(m).read())  # type: ignore[union-attr]
                    samples[meta["url"]] = meta
    assert len(samples) == 11
    first = samples[main.url(f"/img/{ids[0]}.jpg")]
    assert first["caption"] == rows[0]["Title"]
    assert first["input"] == {"license": rows[0]["License"]}
    assert first["image"]["sha256"] == hashlib.sha256(pics[ids[0]]).hexdigest()
    assert (
        first["http"]["status"] == 200 and first["http"]["headers"]["content-type"] == "image/jpeg"
    )
    assert first["signals"]["robots"]["allowed"] is True and first["decision"] == "kept"
    moved = samples[main.url("/moved.jpg")]
    assert moved["http"]["redirects"] == [
        {"url": main.url("/moved.jpg"), "status": 301, "location": main.url(f"/img/{ids[0]}.jpg")}
    ]
    assert moved["image"]["sha256"] == first["image"]["sha256"]

    # the output is a source: image-text records with provenance
    config = SourceConfig(
        name="imgs", format="webdataset", path="out/*.tar", license_field="input.license"
    )
    reader = reader_for(config, tmp_path)
    records = []
    for tar in sorted(summary.output.glob("*.tar")):
        for b in reader.read(
            Shard("imgs", str(tar), tar.name, 0), batch_size=100, on_bad=pytest.fail
        ):
            records += b.to_pylist()
    assert len(records) == 11
    rec = next(r for r in records if r["source_uri"] == main.url(f"/img/{ids[0]}.jpg"))
    assert rec["text"] == rows[0]["Title"] and rec["license"] == rows[0]["License"]
    assert rec["retrieved_at"] is not None


RUNNER = """
import sys, json
from pathlib import Path
sys.path[:0] = {paths!r}
from datasteward.collect.images import ImagesJob, collect_images
from datasteward.collect.imaging import ImageOptions
from datasteward.collect.politeness import Politeness
from datasteward.collect.fetch import FetchOptions
collect_images(ImagesJob(name="imgs", urls=Path({urls!r}), output=Path({out!r}), shard_size=3,
    processes=1, image=ImageOptions(image_size=48), fetch=FetchOptions(retries=0),
    politeness=Politeness(min_delay={delay!r}, concurrency=4)))
"""


@pytest.mark.slow
def test_kill_9_then_resume_fetches_no_finished_shard_again(tmp_path: Path, sites) -> None:
    rows = credits()[:12]
    site = sites(
        {
            "/robots.txt": Page(
                b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}
            ),
            **{f"/{r['ImageID']}.jpg": Page(photo(r), headers=JPEG) for r in rows},
        }
    )
    urls = write_list(
        tmp_path / "list.csv",
        [(site.url(f"/{r['ImageID']}.jpg"), r["Title"], r["License"]) for r in rows],
    )
    out = tmp_path / "out"
    script = RUNNER.format(
        paths=[str(Path(__file__).parents[2] / "src")], urls=str(urls), out=str(out), delay=0.3
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / "00000_stats.json").exists():
            assert proc.poll() is None, "the download ended before it could be killed"
            assert time.monotonic() < deadline, "no shard finished within 60 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    first = {s.split("/")[-1] for s in site.paths() if s.endswith(".jpg")}
    done = [p.name for p in out.glob("*_stats.json")]
    assert "00000_stats.json" in done and len(done) < 4

    before = len(site.log)
    summary = collect_images(job(tmp_path, urls, shard_size=3, image=ImageOptions(image_size=48)))
    resumed = [h.path.split("/")[-1] for h in site.log[before:] if h.path.endswith(".jpg")]
    finished_rows = {
        r["url"].split("/")[-1] for r in pq.read_table(out / "00000.parquet").to_pylist()
    }
    assert finished_rows <= first
    assert not finished_rows & set(resumed)  # nothing of a finished shard was fetched again
    assert summary.shards_done_before == len(done)
    assert summary.total_rows == 12 and summary.total_success == 12
    assert sorted(r["key"] for r in index_rows(out)) == [
        f"{s:05d}{i:04d}" for s in range(4) for i in range(3)
    ]
    assert not list(out.glob("*.partial"))


def test_resume_refuses_other_settings(tmp_path: Path, sites) -> None:
    rows = credits()[:2]
    site = sites(
        {
            "/robots.txt": Page(
                b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}
            ),
            **{f"/{r['ImageID']}.jpg": Page(photo(r), headers=JPEG) for r in rows},
        }
    )
    urls = write_list(
        tmp_path / "list.csv", [(site.url(f"/{r['ImageID']}.jpg"), r["Title"], "") for r in rows]
    )
    collect_images(job(tmp_path, urls, shard_size=1))
    hits = len(site.log)
    again = collect_images(job(tmp_path, urls, shard_size=1))
    assert again.rows == 0 and again.total_success == 2 and len(site.log) == hits
    from datasteward.errors import RunError

    with pytest.raises(RunError, match="shard_size"):
        collect_images(job(tmp_path, urls, shard_size=2))


@pytest.mark.slow
def test_dead_workers_stop_the_download_with_one_clear_error(tmp_path: Path, sites) -> None:
    """A script without the `__main__` guard cannot start worker processes (they import it):
    the download stops with a RunError saying why, instead of failing every row."""
    row = credits()[0]
    site = sites(
        {
            "/robots.txt": Page(
                b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}
            ),
            "/a.jpg": Page(photo(row), headers=JPEG),
        }
    )
    urls = write_list(tmp_path / "list.csv", [(site.url("/a.jpg"), "a", "")])
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\n"
        f"sys.path[:0] = [{str(Path(__file__).parents[2] / 'src')!r}]\n"
        "from datasteward.collect.images import ImagesJob, collect_images\n"
        "from datasteward.collect.politeness import Politeness\n"
        f"collect_images(ImagesJob(name='imgs', urls=Path({str(urls)!r}), "
        f"output=Path({str(tmp_path / 'out')!r}), processes=1, "
        "politeness=Politeness(min_delay=0.0)))\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0
    assert "RunError: collect `imgs`: the image decoding processes failed" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr
    assert not list((tmp_path / "out").glob("*.tar"))
