"""collect images → run → links-only release → fetch, in one recipe: the WebDataset output is a
source, the image-text records keep their provenance, and a links-only release (URL + caption,
LAION's model) is fetched back with every image checked by the sha256 of its original bytes."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

pytest.importorskip("PIL", reason="collect images needs the `collect` extra (pillow)")
pytest.importorskip("imagehash", reason="collect images needs the `collect` extra (imagehash)")

from collect_server import Page, Site  # noqa: E402
from datafiles import shared  # noqa: E402

from datasteward.collect.images import collect_images, job_from_config  # noqa: E402
from datasteward.errors import RecipeError  # noqa: E402
from datasteward.project import Project  # noqa: E402
from datasteward.recipe.model import load_recipe, parse_recipe  # noqa: E402
from datasteward.release.consumer.fetch_links import fetch_links  # noqa: E402
from datasteward.runs.records import inspect_record  # noqa: E402

FOLDER = ("image-text", "openimages-cc-by-photos")
RECIPE = """\
[dataset]
name = "photos"
description = "Open Images CC-BY photos with their titles as captions."

[[sources]]
name = "photos"
format = "webdataset"
path = "collect/photos/*.tar"
license_field = "input.License"
attribution_field = "input.Author"

[[steps]]
use = "dedup.exact"

[[collect]]
name = "photos"
kind = "images"
urls = "links.csv"
url_field = "OriginalURL"
caption_field = "Title"
contact_url = "https://example.org/photos-dataset"
min_delay = 0.01
image_size = 96
resize_mode = "center_crop"
shard_size = 5
processes = 1
retries = 0
"""


@pytest.mark.slow
def test_collect_run_links_only_release_and_fetch(tmp_path: Path) -> None:
    with shared(*FOLDER, "credits.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:12]
    pics = {r["ImageID"]: shared(*FOLDER, f"{r['ImageID']}.jpg").read_bytes() for r in rows}
    site = Site(
        {
            "/robots.txt": Page(
                b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}
            ),
            **{
                f"/{i}.jpg": Page(b, headers={"Content-Type": "image/jpeg"})
                for i, b in pics.items()
            },
        }
    )
    try:
        root = tmp_path / "proj"
        root.mkdir()
        (root / "datasteward.toml").write_text(RECIPE, encoding="utf-8")
        with (root / "links.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, ["OriginalURL", "Title", "License", "Author"])
            w.writeheader()
            for r in rows:
                w.writerow(
                    {
                        "OriginalURL": site.url(f"/{r['ImageID']}.jpg"),
                        "Title": r["Title"],
                        "License": r["License"],
                        "Author": r["Author"],
                    }
                )
        recipe = load_recipe(root)
        summary = collect_images(job_from_config(recipe.collect[0], root))
        assert summary.success == 12 and summary.shards == 3

        project = Project.open(root)
        project.run(workers=1)
        data = project.run_dir() / "data"
        kept = [r for f in sorted(data.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
        assert len(kept) == 12
        by_url = {r["source_uri"]: r for r in kept}
        first = by_url[site.url(f"/{rows[0]['ImageID']}.jpg")]
        assert first["text"] == rows[0]["Title"]
        assert first["license"] == rows[0]["License"]
        assert first["attribution"] == rows[0]["Author"]
        meta = json.loads(first["metadata"])
        assert meta["payload_sha256"] == hashlib.sha256(pics[rows[0]["ImageID"]]).hexdigest()
        assert meta["signals"]["decision"] == "fetched" and meta["decision"] == "kept"
        assert meta["image"]["width"] == meta["image"]["height"] == 96

        # inspect shows the signals recorded at fetch time; the audit reads the run
        seen = inspect_record(project.run_dir(), first["id"])
        assert "signals" in json.dumps(seen, default=str)
        assert "optout" not in json.dumps(seen["record"]["metadata"]["signals"])
        audit = project.audit()
        assert audit["run"]["records_in"] == audit["run"]["kept"] == 12
        assert (project.run_dir() / "audit" / "report.html").is_file()

        release = project.release("1.0.0", draft=True, links_only=True)
        shards = sorted(Path(release.path).rglob("*.parquet"))
        published = [r for f in shards for r in pq.read_table(f).to_pylist() if "source_uri" in r]
        assert len(published) == 12
        assert all("text" not in r for r in published)
        # LAION's model: URL and caption published, image checked by its hash on fetch
        assert {json.loads(r["metadata"])["caption"] for r in published} == {
            r["Title"] for r in rows
        }

        with httpx.Client() as client:
            fetched = fetch_links(release.path, client=client)
        assert fetched.summary()["verified"] == 12, fetched.summary()
        assert fetched.records is not None
        assert sorted(fetched.records.column("text").to_pylist()) == sorted(
            r["Title"] for r in rows
        )
    finally:
        site.close()


def test_recipe_errors_name_the_table() -> None:
    text = RECIPE.replace('contact_url = "https://example.org/photos-dataset"\n', "")
    recipe = parse_recipe(text, Path("/x/datasteward.toml"))
    with pytest.raises(RecipeError, match="contact_url"):
        job_from_config(recipe.collect[0], Path("/x"))
    recipe = parse_recipe(
        RECIPE.replace("image_size = 96", "image_size = 0"), Path("/x/datasteward.toml")
    )
    with pytest.raises(RecipeError, match="image_size must be at least 1"):
        job_from_config(recipe.collect[0], Path("/x"))
    job = job_from_config(parse_recipe(RECIPE, Path("/x/datasteward.toml")).collect[0], Path("/x"))
    assert job.output == Path("/x/collect/photos")
    assert {"noai", "noimageai", "noindex", "noimageindex"} <= set(job.directives)
    assert "GPTBot" in job.ai_agents and job.fetch.user_agent.startswith("datasteward/")
    assert job.image.resize_mode == "center_crop" and job.shard_size == 5


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "datasteward", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_cli_collect_images_counts_and_resumes(tmp_path: Path) -> None:
    with shared(*FOLDER, "credits.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:3]
    site = Site(
        {
            "/robots.txt": Page(
                b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}
            ),
            "/a.jpg": Page(
                shared(*FOLDER, f"{rows[0]['ImageID']}.jpg").read_bytes(),
                headers={"Content-Type": "image/jpeg"},
            ),
            "/b.jpg": Page(
                shared(*FOLDER, f"{rows[1]['ImageID']}.jpg").read_bytes(),
                headers={"Content-Type": "image/jpeg", "X-Robots-Tag": "noimageai"},
            ),
        }
    )
    try:
        root = tmp_path / "proj"
        root.mkdir()
        (root / "datasteward.toml").write_text(RECIPE, encoding="utf-8")
        with (root / "links.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["OriginalURL", "Title", "License", "Author"])
            for path in ("/a.jpg", "/b.jpg", "/c.jpg"):
                w.writerow([site.url(path), path, "", ""])
        done = _cli("collect", "images", "--project", str(root))
        assert done.returncode == 0, done.stderr
        assert "3 URLs" in done.stdout and "1 images kept" in done.stdout
        assert "opted_out: 1" in done.stdout and "http_404: 1" in done.stdout
        again = _cli("collect", "images", "--project", str(root), "--json")
        assert again.returncode == 0, again.stderr
        summary = json.loads(again.stdout)
        assert summary["rows"] == 0 and summary["shards_done_before"] == 1
        assert summary["total_success"] == 1
        assert summary["total_failures"] == {"opted_out": 1, "http_404": 1}
        missing = _cli("collect", "images", "--project", str(root), "--name", "nope")
        assert missing.returncode == 1
        assert "no [[collect]] table of kind 'images' named 'nope'" in missing.stderr
    finally:
        site.close()
