"""Comparing secrets (the coordinator token, CSRF values) without leaking them by timing."""

from __future__ import annotations

import hmac


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two texts; False when either is missing.

    As bytes: `hmac.compare_digest` raises TypeError for str with characters outside
    ASCII, which a tampered link or cookie may well contain.
    """
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
