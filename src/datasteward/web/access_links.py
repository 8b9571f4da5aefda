"""The signed download links of an approved access request.

One home for what a link is: which files of a release are gated (:data:`GATED_ROLES`), the
key that signs the links (:func:`link_key`) and the links themselves (:func:`download_links`),
used by the request's status page, the approval e-mail and the file route that checks them.
"""

from __future__ import annotations

from datasteward.ledger.web_access import AccessRequest
from datasteward.web.signing import sign
from datasteward.web.site import Site

#: the manifest roles a gated release serves only through a signed link
GATED_ROLES = frozenset({"data", "index"})


def link_key(site: Site) -> bytes:
    """The key that signs (and checks) download links."""
    return site.settings.key("download")


def download_links(site: Site, request: AccessRequest) -> list[tuple[str, str]]:
    """(path, signed URL) of each gated file of the request's release."""
    view = site.releases.get(request.version)
    if view is None or view.withdrawn:
        return []
    ttl = site.settings.link_hours * 3600
    token = sign(link_key(site), {"p": "download", "r": request.request_id,
                                  "v": request.version}, ttl_seconds=ttl)  # fmt: skip
    return [
        (f.path, f"/releases/{view.version}/files/{f.path}?token={token}")
        for f in view.manifest.files
        if f.role in GATED_ROLES
    ]
