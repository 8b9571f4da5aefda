"""``CHANGELOG.md``: the new entry on top of the parent release's entries."""

from __future__ import annotations

from datasteward.release.documents.context import ReleaseContext
from datasteward.text_safety import md_code, md_text

TITLE = "# Changelog"


def render_changelog(ctx: ReleaseContext) -> str:
    out = [f"{TITLE} — {md_text(ctx.dataset)}", "", ctx.changelog_entry.rstrip(), ""]
    if ctx.parent_changelog:
        lines = ctx.parent_changelog.splitlines()
        body = lines[1:] if lines and lines[0].startswith(TITLE) else lines
        out.append("\n".join(body).strip())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def data_entry(
    *,
    version: str,
    date: str,
    records: int,
    run_id: str,
    recipe_hash: str | None,
    parent: str | None,
    added: int,
    removed: int,
    draft: bool,
) -> str:
    lines = [f"## {version} — {date[:10]}" + (" (draft)" if draft else ""), ""]
    lines.append(
        f"- {records:,} records from run {md_code(run_id)}"
        + (f" (recipe {md_code(recipe_hash[:12])})" if recipe_hash else "")
        + "."
    )
    if parent:
        lines.append(f"- Against {parent}: {added:,} records added, {removed:,} removed.")
    else:
        lines.append("- First release.")
    return "\n".join(lines)


def takedown_entry(
    *, version: str, date: str, parent: str, removed: int, requests: list[dict[str, object]]
) -> str:
    lines = [f"## {version} — {date[:10]} (takedown patch of {parent})", ""]
    lines.append(
        f"- {removed:,} record{'' if removed == 1 else 's'} removed; every other record is "
        "unchanged (same content, same order)."
    )
    for r in requests:
        lines.append(  # the reason is the requester's text
            f"- Takedown request #{md_text(r['takedown_id'])} ({md_text(r['kind'])}): "
            f"{md_text(r['reason'])}"
        )
    return "\n".join(lines)
