"""``datasteward collect pages``: the summary, a second run with nothing left, and the one-line
errors of a table without a contact URL or of a missing table."""

from __future__ import annotations

import pytest
from collect_server import Page, Site
from typer.testing import CliRunner

from datasteward.cli.main import _load, app

RECIPE = """
[dataset]
name = "cli"
[[sources]]
name = "web"
format = "warc"
path = "collect/c/warc/*.warc.gz"
[[collect]]
name = "c"
seeds = ["{seed}", "gopher://example.org/"]
max_depth = 0
min_delay = 0.0
{contact}
"""


def test_collect_pages_summary_and_second_run(tmp_path):
    site = Site(
        {
            "/robots.txt": Page(b"User-agent: *\nAllow: /\n", headers={}),
            "/": Page(b"<html><body>hello</body></html>"),
        }
    )
    try:
        (tmp_path / "datasteward.toml").write_text(
            RECIPE.format(seed=site.url("/"), contact='contact_url = "mailto:me@example.org"')
        )
        _load()
        cli = CliRunner()
        res = cli.invoke(app, ["collect", "pages", "--project", str(tmp_path)])
        assert res.exit_code == 0, res.output
        assert "2 URLs" in res.stdout and "1 pages written" in res.stdout
        assert "fetched: 1" in res.stdout and "error:unsupported_scheme: 1" in res.stdout
        assert "collect/c/warc" in res.stdout
        assert "(+mailto:me@example.org)" in site.log[0].user_agent
        again = cli.invoke(app, ["collect", "pages", "--project", str(tmp_path)])
        assert again.exit_code == 0 and "0 URLs" in again.stdout
        assert [h.path for h in site.log].count("/") == 1  # nothing fetched twice
    finally:
        site.close()


@pytest.mark.slow
def test_collect_pages_errors_are_one_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "datasteward.toml").write_text(
        RECIPE.format(seed="http://127.0.0.1:9/", contact="")
    )
    out = subprocess.run(
        [sys.executable, "-m", "datasteward", "collect", "pages", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "contact_url" in out.stderr
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasteward",
            "collect",
            "pages",
            "--project",
            str(tmp_path),
            "--name",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "no [[collect]] table" in out.stderr
