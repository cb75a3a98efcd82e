"""Password hashes with argon2id (argon2-cffi), off the eventlet hub when running under it."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_dummy_hash: str | None = None


def _offloaded(fn: Callable[..., T], *args: Any) -> T:
    """Run a CPU-heavy call in a real thread when eventlet patched this process.

    A hash takes tens of milliseconds; on the hub it would stall every other request
    of the gateway meanwhile. argon2-cffi releases the GIL while it works.
    """
    if "eventlet" not in sys.modules:  # a command or a test: nothing to keep responsive
        return fn(*args)
    from eventlet import patcher, tpool

    if patcher.is_monkey_patched("thread"):
        return tpool.execute(fn, *args)
    return fn(*args)


def hash_password(password: str) -> str:
    return _offloaded(_hasher.hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_offloaded(_hasher.verify, password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_dummy(password: str) -> None:
    """Take as long as a real check, for an email without an account (no timing oracle)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    verify_password(_dummy_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
