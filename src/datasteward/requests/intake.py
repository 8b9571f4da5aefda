"""Filing a takedown request: the checked form, the evidence file, confirmation, the preview.

A request is filed ``unconfirmed``; the requester's e-mailed link confirms it (``received``),
and the records it names are then counted in every release and the latest run (``matched``:
counts per release only, never the records). Nothing is removed here: a steward decides
(:mod:`datasteward.requests.decide`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.errors import ReleaseError, TakedownRequestError
from datasteward.ledger import Ledger
from datasteward.requests.tokens import new_status_token

#: What a requester can name, and the ledger takedown kind each becomes.
KINDS: dict[str, str] = {
    "url": "url",
    "domain": "domain",
    "text": "text",
    "image_url": "url",
}
KIND_LABELS = {
    "url": "A web page (URL)",
    "domain": "Every page of a website (domain)",
    "text": "An exact text snippet (e.g. my name or e-mail address)",
    "image_url": "An image (its URL)",
}
#: The takedown categories (``datasteward takedown add --category``); the recipe's
#: ``[takedown.policy]`` says which erase (privacy and legal by default) and which patch.
CATEGORIES = {
    "privacy": "Personal data about me, or I withdraw my consent",
    "legal": "A legal obligation (e.g. a court order)",
    "copyright": "Copyright or licence",
    "harmful": "Harmful or illegal content",
    "other": "Other",
}
#: Where the value of a request whose category erases waits (the ledger keeps its sha256).
PENDING_DIR = Path(".datasteward") / "takedown-requests"
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
#: Evidence types, recognised by their first bytes (the name and declared type are not trusted).
EVIDENCE_TYPES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
EVIDENCE_DIR = Path(".datasteward") / "takedown-evidence"
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MAX_TEXT = 4000


@dataclass(frozen=True)
class TakedownForm:
    """What the public form sends (already decoded)."""

    kind: str
    value: str
    category: str
    explanation: str
    email: str


@dataclass(frozen=True)
class Filed:
    request_id: int
    #: The private status token: goes into the requester's URL, never into the ledger.
    status_token: str


def check_form(form: TakedownForm) -> TakedownForm:
    """The form with its fields trimmed; ``TakedownRequestError`` naming the first bad field."""
    kind, value = form.kind.strip(), form.value.strip()
    if kind not in KINDS:
        raise TakedownRequestError(
            f"field `kind`: {kind!r} is not something we can match",
            hint="choose one of: " + ", ".join(KINDS),
        )
    if not value or len(value) > MAX_TEXT:
        raise TakedownRequestError(
            f"field `value`: give what to match (1 to {MAX_TEXT} characters)",
            hint="a URL, a domain, or the exact text as it appears",
        )
    if kind in ("url", "image_url") and not re.match(r"^https?://[^\s/]+", value, re.I):
        raise TakedownRequestError(
            "field `value`: a URL starts with http:// or https://",
            hint="copy the address from the browser's address bar",
        )
    if kind == "domain" and not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}\.?", value):
        raise TakedownRequestError(
            f"field `value`: {value!r} is not a domain name", hint="e.g. example.org"
        )
    try:
        from datasteward.release.build.match import normalized

        normalized(KINDS[kind], value)
    except ReleaseError as exc:
        raise TakedownRequestError(f"field `value`: {exc.message}", hint=exc.hint) from None
    category = form.category.strip()
    if category not in CATEGORIES:
        raise TakedownRequestError(
            f"field `category`: {category!r} is not a category",
            hint="choose one of: " + ", ".join(CATEGORIES),
        )
    explanation = form.explanation.strip()
    if len(explanation) > MAX_TEXT:
        raise TakedownRequestError(f"field `explanation`: at most {MAX_TEXT} characters")
    email = form.email.strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise TakedownRequestError(
            "field `email`: not an e-mail address",
            hint="we send a link to confirm the request to it",
        )
    return TakedownForm(kind, value, category, explanation or "(none given)", email)


def store_evidence(project: Path, data: bytes, *, filename: str = "") -> dict[str, Any]:
    """Keep an evidence file under ``.datasteward/takedown-evidence`` (never in a release),
    named by its sha256; returns what the ledger records of it."""
    if len(data) > EVIDENCE_MAX_BYTES:
        raise TakedownRequestError(
            f"field `evidence`: {len(data):,} bytes is over the limit of {EVIDENCE_MAX_BYTES:,}",
            hint="send a smaller file (a PDF, PNG, JPEG or text file)",
        )
    kind = _evidence_type(data)
    if kind is None:
        raise TakedownRequestError(
            f"field `evidence`: {filename or 'the file'} is not a PDF, PNG, JPEG or UTF-8 text",
            hint="send the evidence as one of those types",
        )
    mime, ext = kind
    digest = hashlib.sha256(data).hexdigest()
    rel = EVIDENCE_DIR / f"{digest}.{ext}"
    path = project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return {"path": rel.as_posix(), "sha256": digest, "type": mime, "bytes": len(data)}


def _evidence_type(data: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in EVIDENCE_TYPES:
        if data.startswith(magic):
            return mime, ext
    if not data or b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain", "txt"


def file_request(
    project: Path, form: TakedownForm, *, evidence: dict[str, Any] | None = None
) -> Filed:
    """Record a checked request (``unconfirmed``); returns its id and private status token."""
    from datasteward.release.build.takedown import policy_for

    checked = check_form(form)
    token, digest = new_status_token()
    erase = policy_for(project, checked.category)[0] == "erase"
    stored = "sha256:" + hashlib.sha256(checked.value.encode()).hexdigest() if erase else None
    with Ledger.open(project) as ledger:
        rid = ledger.file_web_request(
            {
                "kind": checked.kind,
                "value": stored or checked.value,
                "category": checked.category,
                "explanation": checked.explanation,
                "email": checked.email,
                "evidence": json.dumps(evidence, sort_keys=True) if evidence else None,
                "status_token_sha256": digest,
            }
        )
    if erase:
        path = project / PENDING_DIR / f"{rid}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"value": checked.value}), "utf-8")
    return Filed(rid, token)


def request_value(project: Path, row: dict[str, Any]) -> str | None:
    """What the request names: in the ledger, or (an erasing category, whose value the
    append-only ledger keeps only as a sha256) in its pending file; None once erased."""
    value = str(row["value"])
    if not value.startswith("sha256:"):
        return value
    path = project / PENDING_DIR / f"{row['request_id']}.json"
    if not path.is_file():
        return None
    return str(json.loads(path.read_text("utf-8"))["value"])


def forget_value(project: Path, request_id: int) -> None:
    """Delete the pending value of an erasing request (executed or declined)."""
    (project / PENDING_DIR / f"{request_id}.json").unlink(missing_ok=True)


def confirm(project: Path, request_id: int) -> dict[str, Any]:
    """The requester confirmed: ``received``, then the match preview (``matched``).

    Confirming twice is harmless (the second time changes nothing)."""
    from datasteward.ledger.chain import utc_now

    with Ledger.open(project) as ledger:
        row = ledger.web_request(request_id)
        if row is None:
            raise TakedownRequestError(f"no takedown request #{request_id}")
        if row["status"] != "unconfirmed":
            return row
        ledger.update_web_request(
            request_id, {"status": "received", "confirmed_at": utc_now()}, expect=("unconfirmed",)
        )
    value = request_value(project, row)
    found = preview(project, row["kind"], value) if value else {"releases": {}, "latest_run": 0}
    with Ledger.open(project) as ledger:
        return ledger.update_web_request(
            request_id,
            {"status": "matched", "match": json.dumps(found, sort_keys=True)},
            expect=("received",),
        )


def preview(project: Path, kind: str, value: str) -> dict[str, Any]:
    """How many records a request names, per release and in the latest run (counts only)."""
    from datasteward.release.build.match import Request
    from datasteward.release.build.takedown import find

    matches = find(project, [Request(0, KINDS[kind], value)])
    releases: dict[str, int] = {}
    run = 0
    for m in matches.items:
        if m.where.startswith("run:"):
            run += 1
        else:
            releases[m.where] = releases.get(m.where, 0) + 1
    return {"releases": dict(sorted(releases.items())), "latest_run": run}
