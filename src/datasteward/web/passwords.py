"""Password hashing with argon2 (argon2-cffi's defaults: argon2id, RFC 9106 low-memory)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD_CHARS = 12


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return hasher().hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not a password of anyone")


def check_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash if the stored one uses outdated parameters). With no stored hash
    (an unknown account) a dummy hash is still verified, so timing does not tell which
    accounts exist."""
    from argon2.exceptions import InvalidHashError, VerificationError

    ph = hasher()
    try:
        ph.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, hash_password(password) if ph.check_needs_rehash(stored) else None
