"""Annotator ids in anything a release contains are pseudonyms: a keyed hash (HMAC-SHA256)
of the id with the project's secret, so the same person keeps the same pseudonym across
files and runs, and nobody without the secret can test a guess.

The secret comes from the environment (``DATASTEWARD_ANNOTATOR_KEY``, hex or text) or from
the project's key file ``.datasteward/annotator.key`` (made on first use, mode 0600, never
part of a release).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

ENV = "DATASTEWARD_ANNOTATOR_KEY"
KEY_FILE = Path(".datasteward") / "annotator.key"


def project_secret(project: Path | None) -> bytes:
    """The key: the environment's, else the project's key file (created if missing)."""
    env = os.environ.get(ENV)
    if env:
        return env.encode()
    if project is None:
        from datasteward.errors import RecipeError

        raise RecipeError(
            "no key to pseudonymise annotator ids",
            hint=f"set {ENV} or pass --project (its {KEY_FILE} is made on first use)",
        )
    path = project / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def pseudonym(annotator: str, key: bytes) -> str:
    return "a-" + hmac.new(key, annotator.encode(), hashlib.sha256).hexdigest()[:16]


def pseudonymise(annotators: Iterable[str], key: bytes) -> list[str]:
    cache: dict[str, str] = {}
    out = []
    for a in annotators:
        p = cache.get(a)
        if p is None:
            p = cache[a] = pseudonym(a, key)
        out.append(p)
    return out
