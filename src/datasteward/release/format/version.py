"""Semantic versions of releases (https://semver.org 2.0.0).

Data changes make a minor or major release; a takedown makes a patch. A *release line* is
``MAJOR.MINOR``: its patches differ from the first release of the line only by removals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from datasteward.errors import ReleaseError

# The regular expression suggested by semver.org, anchored.
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@dataclass(frozen=True, order=False)
class Version:
    major: int
    minor: int
    patch: int
    pre: str | None = None
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _SEMVER.match(text.strip()) if isinstance(text, str) else None
        if m is None:
            raise ReleaseError(
                f"{text!r} is not a semantic version",
                hint="use MAJOR.MINOR.PATCH, e.g. 1.0.0 or 1.1.0-rc.1 (see https://semver.org)",
            )
        return cls(int(m[1]), int(m[2]), int(m[3]), m[4], m[5])

    def __str__(self) -> str:
        out = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            out += f"-{self.pre}"
        if self.build:
            out += f"+{self.build}"
        return out

    @property
    def line(self) -> str:
        return f"{self.major}.{self.minor}"

    def next_patch(self) -> Version:
        return Version(self.major, self.minor, self.patch + 1)

    def sort_key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        """semver precedence: a pre-release sorts before its release; build is ignored."""
        pre: tuple[tuple[int, int | str], ...] = ()
        if self.pre:
            pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre.split("."))
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self.sort_key() < other.sort_key()


def check_new_version(new: Version, existing: list[Version], *, patch_ok: bool = False) -> None:
    """A new data release must be a minor or major step above every existing release.

    Patches are made by takedowns only (``patch_ok``), never by ``datasteward release``.
    """
    if not existing:
        if new.patch != 0 and not patch_ok:
            raise ReleaseError(
                f"the first release must not be a patch ({new})",
                hint=f"use {new.major}.{new.minor}.0; patches are made by takedowns",
            )
        return
    newest = max(existing, key=Version.sort_key)
    if any(v.sort_key()[:3] == new.sort_key()[:3] and v.pre == new.pre for v in existing):
        raise ReleaseError(f"release {new} exists already", hint="releases are immutable")
    if patch_ok:
        return
    if new.patch != 0 or not newest < new:
        raise ReleaseError(
            f"release {new} must be a new minor or major version above {newest}",
            hint="data changes are minor or major releases (e.g. "
            f"{newest.major}.{newest.minor + 1}.0); "
            "patches are made by `datasteward takedown apply`",
        )


def check_version_name(text: object) -> str:
    """``text`` if it is exactly a semantic version (it names a release directory).

    ``Version.parse`` tolerates surrounding blanks; a version used as a path must not, and
    nothing but a version may be joined to a releases folder or URL (``../other`` would
    load another release).
    """
    if not isinstance(text, str) or text != text.strip():
        raise ReleaseError(
            f"{text!r:.100} is not a semantic version",
            hint="use MAJOR.MINOR.PATCH, e.g. 1.0.0 or 1.1.0-rc.1 (see https://semver.org)",
        )
    Version.parse(text)
    return text
