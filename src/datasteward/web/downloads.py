"""Downloads of release files (open, or gated behind an approved access request)."""

from __future__ import annotations

ROUTES: list[object] = []
