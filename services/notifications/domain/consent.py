"""The consent log's vocabulary: actions, channels, the version of a text, the keyed hash.

A text's version names the exact wording the person saw: the template and the
catalogue of its language, by digest, so any change of either gives a new version.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

GIVEN, WITHDRAWN = "given", "withdrawn"
HASH_PREFIX = "hmac:"
ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=32)
def text_version(template: str, lang: str) -> str:
    """`<template>/<lang>/<digest>`: the mail text (template and catalogue) the person saw."""
    lang = lang if lang in ("de", "en") else "de"
    digest = hashlib.sha256()
    for path in (ROOT / "templates" / f"{template}.txt",
                 ROOT / "locale" / lang / "LC_MESSAGES" / "messages.po"):
        digest.update(path.read_bytes() if path.is_file() else b"")
    return f"{template}/{lang}/{digest.hexdigest()[:12]}"


def address_hash(secret_key: str, email: str) -> str:
    """The keyed hash an erased or pseudonymised address is kept by (HMAC-SHA-256)."""
    mac = hmac.new(secret_key.encode("utf-8"), b"address:" + email.strip().lower().encode("utf-8"),
                   hashlib.sha256)
    return HASH_PREFIX + mac.hexdigest()
