"""Withdrawing a release: its folder becomes a tombstone (issue 19).

A takedown whose policy is ``erase`` withdraws every superseded release that held the record.
The release's data and index files are deleted — readers that bypass datasteward (pandas,
Hugging Face ``load_dataset``) find no data files, not stale ones — while what tells the story
stays: ``manifest.json`` (what the release was, with the sha256 of every file it had),
``status.json`` (``"status": "withdrawn"``, why — the kinds of the requests, the date, the
decision — and the replacement), and its documents. The Hugging Face card (``README.md``) and
``croissant.json`` are replaced by ones that describe the withdrawal, so a hub mirror shows it.

The status is written first, so from the first moment ``load`` refuses the release; a withdrawal
stopped part way is finished by running it again (each step is idempotent). The request's
value (the URL, the text) is never written here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.release.format.manifest import Manifest, read_manifest, sha256_file
from datasteward.release.format.status import read_status, write_status

log = logging.getLogger(__name__)

WITHDRAWN = "withdrawn"
CARD = "README.md"
CROISSANT = "croissant.json"
#: record(place, action, rows_erased, sha256_before, sha256_after): how each file is recorded.
Recorder = Callable[[str, str, int, "str | None", "str | None"], None]


@dataclass(frozen=True)
class Withdrawal:
    version: str
    replacement: str | None
    takedown_ids: tuple[int, ...]
    categories: tuple[str, ...]
    decision: str  # e.g. "erase (default policy: privacy = 'erase')"
    at: str

    def as_status(self, files_removed: list[str]) -> dict[str, Any]:
        return {
            "withdrawn_at": self.at,
            "takedown_ids": list(self.takedown_ids),
            "kinds": list(self.categories),
            "decision": self.decision,
            "replacement": self.replacement,
            "files_removed": files_removed,
            "why": (
                f"withdrawn after {' and '.join(self.categories)} takedown request(s) "
                + ", ".join(f"#{i}" for i in self.takedown_ids)
                + f": the stewards decided to {self.decision}"
            ),
        }


def is_withdrawn(release_dir: Path) -> bool:
    return read_status(release_dir).get("status") == WITHDRAWN


def withdraw_release(release_dir: Path, w: Withdrawal, record: Recorder) -> list[str]:
    """Make ``release_dir`` a tombstone; returns the files removed (relative paths)."""
    release_dir = Path(release_dir)
    manifest = read_manifest(release_dir)
    removed = sorted(f.path for f in manifest.files if f.role in ("data", "index"))
    status = read_status(release_dir)
    if status.get("status") != WITHDRAWN:
        previous = status.get("status", "current")
        status["status"] = WITHDRAWN
        status["withdrawn_from_status"] = previous
        status["withdrawal"] = w.as_status(removed)
        write_status(release_dir, status)  # first: loaders refuse it from now on
    project = release_dir.parent.parent
    for entry in manifest.files:
        if entry.path not in removed:
            continue
        path = release_dir / entry.path
        if path.is_file():
            path.unlink()
            record(
                path.relative_to(project).as_posix(),
                "deleted",
                int(entry.rows or 0),
                entry.sha256,
                None,
            )
    for sub in ("data", "index"):
        d = release_dir / sub
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    _replace_document(release_dir, CARD, card(manifest, w), record)
    _replace_document(release_dir, CROISSANT, croissant(release_dir, manifest, w), record)
    return removed


def _replace_document(release_dir: Path, name: str, text: str, record: Recorder) -> None:
    path = release_dir / name
    if path.exists() and path.read_text("utf-8", errors="replace") == text:
        return
    before = sha256_file(path) if path.exists() else None
    tmp = path.with_name(f".{name}.withdrawn")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)
    project = release_dir.parent.parent
    record(path.relative_to(project).as_posix(), "rewritten", 0, before, sha256_file(path))


def card(manifest: Manifest, w: Withdrawal) -> str:
    """The Hugging Face card of a withdrawn version: no data, the reason and the replacement.

    ``configs`` still names ``data/*.parquet`` (now absent), so ``load_dataset`` on the folder
    or a mirror fails with "no data files" instead of reading the JSON documents as data.
    """
    replacement = (
        f"Use version **{w.replacement}** instead (the same data without the withdrawn record(s))."
        if w.replacement
        else "No replacement was named."
    )
    front = {
        "pretty_name": f"{manifest.dataset} {manifest.version} (withdrawn)",
        "tags": ["withdrawn"],
        "configs": [
            {
                "config_name": "default",
                "default": True,
                "data_files": [{"split": "train", "path": "data/*.parquet"}],
            }
        ],
    }
    lines = [
        "---",
        *_yaml(front),
        "---",
        "",
        f"# {manifest.dataset} {manifest.version} — withdrawn",
        "",
        f"This version was **withdrawn** on {w.at[:10]} and its data files were deleted: "
        f"{w.as_status([])['why']}.",
        "",
        replacement,
        "",
        "What remains here: `manifest.json` (what the release held, with the sha256 of every "
        "file), `status.json` (why and when it was withdrawn, and the replacement) and the "
        "release's documents. `datasteward verify` on this folder reports it as withdrawn; "
        "`datasteward.load` refuses it and names the replacement.",
        "",
        "If you hold a copy of this version, please delete it and use the replacement.",
        "",
    ]
    return "\n".join(lines)


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """A small YAML emitter for the card's front matter (JSON scalars are valid YAML)."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                out.append(f"{pad}{k}:")
                out += _yaml(v, indent + 2)
            else:
                out.append(f"{pad}{k}: {json.dumps(v)}")
    elif isinstance(value, list):
        for item in value:
            sub = _yaml(item, indent + 2)
            if sub:
                out.append(f"{pad}- {sub[0].strip()}")
                out += sub[1:]
    return out


def croissant(release_dir: Path, manifest: Manifest, w: Withdrawal) -> str:
    """Croissant JSON-LD of a withdrawn version: no distribution, no record sets."""
    context: Any = {"@vocab": "https://schema.org/", "sc": "https://schema.org/"}
    old = release_dir / CROISSANT
    if old.exists():
        try:
            context = json.loads(old.read_text("utf-8")).get("@context", context)
        except ValueError:
            pass
    doc = {
        "@context": context,
        "@type": "sc:Dataset",
        "name": f"{manifest.dataset}",
        "version": manifest.version,
        "description": f"Withdrawn on {w.at[:10]}: {w.as_status([])['why']}. "
        + (f"Use version {w.replacement} instead." if w.replacement else ""),
        "isLiveDataset": False,
        "distribution": [],
        "recordSet": [],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
