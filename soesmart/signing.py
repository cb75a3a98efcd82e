"""Signed values for links and cookies (itsdangerous), with one salt per purpose.

A value signed for one purpose (a citizen's session, an unsubscribe link, ...) never
passes for another, and a value signed with another secret key passes nowhere. What
is signed is readable, not encrypted. Anything that does not pass, whatever its
shape (tampered, truncated, made by an older version, with characters outside
ASCII), is refused the same way: `None` or `False`, never an exception.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from itsdangerous import BadData, Signer, TimestampSigner, URLSafeTimedSerializer

# HMAC-SHA-384: its 48 bytes are exactly 64 base64 characters, so every character of
# a signature counts. (The last of SHA-256's 43 characters has two spare bits: a link
# changed only there would still pass.) base64 decoding also skips characters outside
# its alphabet and reads "+" as "-", so a signature must have exactly this shape.
_DIGEST = hashlib.sha384
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{64}")
SEPARATOR = "."
# Gateway processes on different machines may disagree a little on the time.
CLOCK_LEEWAY_SECONDS = 300


def _salt(purpose: str) -> str:
    return f"soesmart {purpose}"


def _signer(secret: str, purpose: str) -> Signer:
    return Signer(secret, salt=_salt(purpose), sep=SEPARATOR, digest_method=_DIGEST)


def _well_formed(signature: str) -> bool:
    return _SIGNATURE.fullmatch(signature) is not None


def signature_of(secret: str, purpose: str, value: str) -> str:
    """The signature of `value` for `purpose` (URL-safe text, 64 characters)."""
    return _signer(secret, purpose).get_signature(value).decode("ascii")


def has_signature(secret: str, purpose: str, value: str, signature: str) -> bool:
    """Whether `signature` is the signature of `value` for `purpose` (constant time)."""
    if not signature or not _well_formed(signature):
        return False
    try:
        return _signer(secret, purpose).verify_signature(value, signature)
    except UnicodeError:  # a value that is no text (lone surrogates)
        return False


class _TimestampSigner(TimestampSigner):
    """itsdangerous' timestamp signer, told the time of signing when it is not now."""

    def __init__(self, *args: Any, issued_at: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return super().get_timestamp() if self.issued_at is None else self.issued_at


def _serializer(secret: str, purpose: str, issued_at: int | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt=_salt(purpose), signer=_TimestampSigner,
        signer_kwargs={"sep": SEPARATOR, "digest_method": _DIGEST, "issued_at": issued_at},
    )


def dumps(secret: str, purpose: str, data: Any, issued_at: int | None = None) -> str:
    """`data` (JSON) as URL- and cookie-safe text, signed for `purpose` with the time of signing."""
    return _serializer(secret, purpose, issued_at).dumps(data)


def loads(secret: str, purpose: str, signed: str, max_age_seconds: float,
          now: float | None = None) -> tuple[Any, int] | None:
    """The data of a value made by `dumps` and when it was signed (Unix time), or None
    if it does not pass or was signed more than `max_age_seconds` ago."""
    if not _well_formed(signed.rpartition(SEPARATOR)[2]):
        return None
    try:
        data, signed_at = _serializer(secret, purpose).loads(signed, return_timestamp=True)
    except (BadData, UnicodeError):
        return None
    issued_at = int(signed_at.timestamp())
    age = (time.time() if now is None else now) - issued_at
    if age < -CLOCK_LEEWAY_SECONDS or age > max_age_seconds:
        return None
    return data, issued_at
