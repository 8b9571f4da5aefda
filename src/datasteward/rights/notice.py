"""The attribution ``NOTICE``: who to credit, for the records whose licence requires it.

Built from a run's kept Parquet with duckdb: records grouped by licence, then source, then
creator (``attribution``), deduplicated, with a count per creator and a few of the places the
works came from (``source_uri``). Bounded whatever the dataset size: at most
``max_creators`` lines per (licence, source), then one summary line for the rest.
Records that need attribution but carry none are counted, so the gap is visible.
Records whose licence is unknown are listed too (their creators may need credit), and the
text says so: whether they require attribution cannot be determined. Licence links go only to
real pages: the CC deed for CC licences, the SPDX page for ids on the SPDX list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from datasteward.rights.licenses import spdx_ids
from datasteward.rights.terms import classify
from datasteward.text_safety import md_code, md_text, md_url

_CC = re.compile(
    r"^(?:LicenseRef-)?CC-(BY(?:-NC)?(?:-ND|-SA)?)-(\d\.\d)(?:-([A-Z]{2,3}))?$", re.IGNORECASE
)


def license_url(spdx: str) -> str | None:
    """Where a licence's text is: the CC deed for CC licences, else the SPDX page."""
    m = _CC.match(spdx)
    if m:
        port = f"{m.group(3).lower()}/" if m.group(3) and m.group(3).upper() != "IGO" else ""
        if m.group(3) and m.group(3).upper() == "IGO":
            port = "igo/"
        return f"https://creativecommons.org/licenses/{m.group(1).lower()}/{m.group(2)}/{port}"
    canonical = spdx_ids().get(spdx.lower())  # unknown, NOASSERTION, LicenseRef-...: no page
    if canonical is None:
        return None
    return f"https://spdx.org/licenses/{quote(canonical, safe='+')}.html"


@dataclass(frozen=True)
class CreatorLine:
    creator: str | None
    records: int
    uris: tuple[str, ...]


@dataclass(frozen=True)
class NoticeGroup:
    license: str
    source: str
    records: int
    creators: tuple[CreatorLine, ...]
    more_creators: int
    more_records: int


def notice_groups(
    run_dir: str | Path, *, max_creators: int = 200, max_uris: int = 3
) -> list[NoticeGroup]:
    """The NOTICE content: attribution-requiring (licence, source) groups, bounded."""
    from datasteward.runs.find import kept_glob, query

    glob = kept_glob(run_dir)
    licences = [
        str(r[0])
        for r in query(
            "SELECT DISTINCT coalesce(license, 'unknown') "
            f"FROM read_parquet('{glob}', union_by_name = true)"
        )
    ]
    # an unknown licence may well require attribution: list it too, so credits are not lost
    needing = sorted(x for x in licences if classify(x).attribution is not False)
    if not needing:
        return []
    rows = query(
        f"""
        WITH t AS (
          SELECT coalesce(license, 'unknown') AS license, source,
                 nullif(trim(attribution), '') AS creator, source_uri
          FROM read_parquet('{glob}', union_by_name = true)
          WHERE coalesce(license, 'unknown') IN (SELECT unnest(?))
        ), c AS (
          SELECT license, source, creator, count(*) AS n,
                 list(DISTINCT source_uri ORDER BY source_uri)
                   FILTER (WHERE source_uri IS NOT NULL) AS uris
          FROM t GROUP BY ALL
        )
        SELECT license, source, creator, n, uris,
               row_number() OVER (PARTITION BY license, source
                                  ORDER BY (creator IS NULL), n DESC, creator) AS rank
        FROM c ORDER BY license, source, rank
        """,
        [needing],
    )
    groups: dict[tuple[str, str], _Acc] = {}
    for license, source, creator, n, uris, rank in rows:
        g = groups.setdefault((str(license), str(source)), _Acc())
        g.records += int(n)
        if int(rank) <= max_creators or creator is None:
            g.lines.append(CreatorLine(creator, int(n), tuple((uris or [])[:max_uris])))
        else:
            g.more_creators += 1
            g.more_records += int(n)
    return [
        NoticeGroup(lic, src, g.records, tuple(g.lines), g.more_creators, g.more_records)
        for (lic, src), g in groups.items()
    ]


@dataclass
class _Acc:
    records: int = 0
    lines: list[CreatorLine] = field(default_factory=list)
    more_creators: int = 0
    more_records: int = 0


def render_notice(
    groups: list[NoticeGroup], *, dataset: str | None = None, run_id: str | None = None
) -> str:
    """NOTICE.md text for the groups (deterministic: no timestamps). Every value from the
    records (licence, source, creator, URL) is Markdown text, never HTML or a link of its own
    (:mod:`datasteward.text_safety`)."""
    title = f"# NOTICE — {md_text(dataset)}" if dataset else "# NOTICE"
    out = [title, ""]
    unknown = [g for g in groups if not classify(g.license).known]
    if groups and len(unknown) == len(groups):
        out.append(
            "The licence of the works below is unknown, so whether they require attribution "
            "cannot be determined. Their creators are listed as the records give them, grouped "
            "by licence and then by source, with the number of works and where they came from."
        )
    elif unknown:
        out.append(
            "This dataset contains works whose licences require attribution, and works whose "
            "licence is unknown (whether they require attribution cannot be determined). The "
            "creators are credited below, grouped by licence and then by source, with the "
            "number of works and where they came from."
        )
    elif groups:
        out.append(
            "This dataset contains works whose licences require attribution. The creators are "
            "credited below, grouped by licence and then by source, with the number of works "
            "and where they came from."
        )
    if run_id:
        out.append(f"Generated from run {md_code(run_id)}.")
    out.append("")
    if not groups:
        out.append("No record in this dataset is under a licence that requires attribution.")
        return "\n".join(out) + "\n"
    current = None
    for g in groups:
        if g.license != current:
            current = g.license
            url = license_url(g.license)
            terms = classify(g.license)
            label = (
                "licence unknown: attribution cannot be determined; credit as given"
                if not terms.known
                else terms.use
            )
            out.append(
                f"## {md_text(g.license)}" + (f" — {md_url(url)}" if url else "") + f" ({label})"
            )
            out.append("")
        out.append(f"### Source {md_code(g.source)} — {g.records} works")
        out.append("")
        for line in g.creators:
            where = ", ".join(md_url(u) for u in line.uris)
            if line.creator is None:
                out.append(
                    f"- **no attribution recorded** — {line.records} works"
                    + (f"; e.g. {where}" if where else "")
                )
                continue
            noun = "work" if line.records == 1 else "works"
            more = " …" if line.records > len(line.uris) and line.uris else ""
            out.append(
                f"- {md_text(line.creator)} — {line.records} {noun}"
                + (f": {where}{more}" if where else "")
            )
        if g.more_creators:
            out.append(f"- … and {g.more_creators} more creators ({g.more_records} works)")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_notice(
    run_dir: str | Path,
    out: str | Path,
    *,
    dataset: str | None = None,
    max_creators: int = 200,
    max_uris: int = 3,
) -> Path:
    groups = notice_groups(run_dir, max_creators=max_creators, max_uris=max_uris)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_notice(groups, dataset=dataset, run_id=Path(run_dir).name), "utf-8")
    return path
