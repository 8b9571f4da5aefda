"""Rights signals in a web page's HTML, parsed with resiliparse.

* licence evidence: ``rel="license"`` on ``<a>``/``<link>`` (and RDFa ``cc:license``), licence
  meta tags (``license``, ``dc.rights``, ``dcterms.license``...), Creative Commons badge images
  (``i.creativecommons.org/l/...``, ``licensebuttons.net/l/...``), and plain links to
  Creative Commons licences (weak: often the credit of an embedded photo, not the page);
* opt-out signals: TDMRep ``<meta name="tdm-reservation">`` / ``tdm-policy`` and robots meta
  tags (``<meta name="robots" content="noai">``, or named for one crawler:
  ``<meta name="GPTBot" content="noai">``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

#: Meta names (lower-case) whose content states a licence.
LICENSE_META = (
    "license",
    "licence",
    "dc.rights",
    "dc.license",
    "dcterms.rights",
    "dcterms.license",
    "dc:rights",
    "dcterms:license",
    "dcterms:rights",
    "cc:license",
    "og:license",
    "copyright-license",
    "rights",
)
_CC_HOSTS = ("creativecommons.org", "licensebuttons.net")


@dataclass(frozen=True)
class Evidence:
    """One piece of licence evidence on a page. ``strength`` is ``strong`` or ``weak``."""

    kind: str  # rel-license | meta | badge | cc-link | link-header
    value: str
    strength: str


@dataclass
class PageSignals:
    license: list[Evidence] = field(default_factory=list)
    tdm_reservation: str | None = None
    tdm_policy: str | None = None
    #: (agent or None for all robots, directive) from robots meta tags.
    robots: list[tuple[str | None, str]] = field(default_factory=list)


def _is_cc(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _CC_HOSTS)


def _is_cc_licence_path(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.startswith(
        ("/licenses/", "/publicdomain/zero/", "/publicdomain/mark/", "/l/", "/p/")
    )


def parse_page(
    html: str, base_url: str | None = None, *, agents: tuple[str, ...] = ()
) -> PageSignals:
    """Every rights signal on one page. ``agents`` are crawler names whose meta tags count."""
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    doc = tree.document
    out = PageSignals()
    if doc is None:
        return out
    base = base_url or ""
    for el in doc.query_selector_all("base[href]"):
        base = urljoin(base, el.getattr("href") or "")
        break

    def absolute(href: str) -> str:
        return urljoin(base, href.strip()) if base else href.strip()

    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str, strength: str) -> None:
        if value and (kind, value) not in seen:
            seen.add((kind, value))
            out.license.append(Evidence(kind, value, strength))

    rel_targets: set[str] = set()
    for el in doc.query_selector_all("[rel]"):
        rels = (el.getattr("rel") or "").lower().split()
        if any(r == "license" or r.endswith(":license") for r in rels):
            href = el.getattr("href") or el.getattr("resource") or ""
            if href:
                rel_targets.add(absolute(href))
                add("rel-license", absolute(href), "strong")
    agent_names = {a.lower() for a in agents}
    for el in doc.query_selector_all("meta"):
        name = (el.getattr("name") or el.getattr("property") or "").strip().lower()
        content = (el.getattr("content") or "").strip()
        if not name or not content:
            continue
        if name in LICENSE_META:
            add("meta", content, "strong")
        elif name == "tdm-reservation":
            out.tdm_reservation = content
        elif name == "tdm-policy":
            out.tdm_policy = content
        elif name == "robots" or name in agent_names:
            agent = None if name == "robots" else name
            for directive in content.lower().split(","):
                if directive.strip():
                    out.robots.append((agent, directive.strip()))
    for el in doc.query_selector_all("img[src]"):
        src = absolute(el.getattr("src") or "")
        if _is_cc(src) and _is_cc_licence_path(src):
            add("badge", src, "strong")
    for el in doc.query_selector_all("a[href]"):
        href = absolute(el.getattr("href") or "")
        if href not in rel_targets and _is_cc(href) and _is_cc_licence_path(href):
            add("cc-link", href, "weak")
    return out
