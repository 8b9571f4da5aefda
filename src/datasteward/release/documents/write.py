"""Write the documents of a release into its directory; returns (path, role) of each.

Each generator is a module with one job: ``changelog`` (CHANGELOG.md), the rights
engineer's NOTICE generator (NOTICE.md), ``card`` (README.md, a Hugging Face dataset card),
``croissant`` (croissant.json), ``datacite`` (datacite.json), ``datasheet``
(datasheet.md/html). The documents that describe the data files (Croissant) are written last,
after the data files have their hashes.
"""

from __future__ import annotations

import logging

from datasteward.release.documents.changelog import render_changelog
from datasteward.release.documents.context import ReleaseContext

log = logging.getLogger(__name__)


def write_documents(ctx: ReleaseContext) -> list[tuple[str, str]]:
    written: list[tuple[str, str]] = []

    def put(rel: str, text: str, role: str = "docs") -> None:
        (ctx.root / rel).write_text(text, "utf-8")
        written.append((rel, role))

    put("CHANGELOG.md", render_changelog(ctx))
    put("NOTICE.md", _notice(ctx))
    for rel, text, role in _optional(ctx):
        put(rel, text, role)
    return written


def _notice(ctx: ReleaseContext) -> str:
    from datasteward.rights.notice import notice_groups, render_notice

    groups = notice_groups(ctx.root)
    return render_notice(groups, dataset=f"{ctx.dataset} {ctx.version}", run_id=ctx.run_id)


def _optional(ctx: ReleaseContext) -> list[tuple[str, str, str]]:
    from datasteward.release.documents import datasheet
    from datasteward.release.documents.measured import measure

    facts = measure(ctx)
    sheet = datasheet.build_datasheet(ctx, facts)
    ctx.datasheet = sheet
    from datasteward.release.documents import card, croissant, datacite

    return [
        ("README.md", card.render_card(ctx, sheet), "docs"),
        ("datacite.json", datacite.render_datacite(ctx, sheet), "metadata"),
        ("datasheet.md", datasheet.render_markdown(sheet), "docs"),
        ("datasheet.html", datasheet.render_html(sheet), "docs"),
        ("croissant.json", croissant.render_croissant(ctx, sheet), "metadata"),
    ]
