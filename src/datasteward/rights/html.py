"""Rights signals in a web page's HTML, parsed with lxml.

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
from typing import Any
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


def _parse(html: str) -> Any:
    import lxml.etree
    import lxml.html

    try:
        return lxml.html.document_fromstring(html)
    except ValueError:  # a str with an XML encoding declaration
        try:
            return lxml.html.document_fromstring(html.encode("utf-8", "replace"))
        except (lxml.etree.ParserError, ValueError):
            return None
    except lxml.etree.ParserError:  # empty document
        return None


def parse_page(
    html: str, base_url: str | None = None, *, agents: tuple[str, ...] = ()
) -> PageSignals:
    """Every rights signal on one page. ``agents`` are crawler names whose meta tags count."""
    out = PageSignals()
    doc = _parse(html)
    if doc is None:
        return out
    base = base_url or ""
    elements = [el for el in doc.iter("base", "a", "link", "meta", "img", "area")]
    for el in elements:
        if el.tag == "base" and el.get("href"):
            base = urljoin(base, el.get("href"))
            break

    def absolute(href: str) -> str:
        return urljoin(base, href.strip()) if base else href.strip()

    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str, strength: str) -> None:
        if value and (kind, value) not in seen:
            seen.add((kind, value))
            out.license.append(Evidence(kind, value, strength))

    agent_names = {a.lower() for a in agents}
    rel_targets: set[str] = set()
    plain: list[str] = []
    for el in elements:
        rels = (el.get("rel") or "").lower().split()
        if any(r == "license" or r.endswith(":license") for r in rels):
            href = el.get("href") or el.get("resource") or ""
            if href:
                rel_targets.add(absolute(href))
                add("rel-license", absolute(href), "strong")
                continue
        if el.tag == "meta":
            name = (el.get("name") or el.get("property") or "").strip().lower()
            content = (el.get("content") or "").strip()
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
        elif el.tag == "img" and el.get("src"):
            src = absolute(el.get("src"))
            if _is_cc(src) and _is_cc_licence_path(src):
                add("badge", src, "strong")
        elif el.tag in ("a", "area") and el.get("href"):
            plain.append(absolute(el.get("href")))
    for href in plain:
        if href not in rel_targets and _is_cc(href) and _is_cc_licence_path(href):
            add("cc-link", href, "weak")
    return out
