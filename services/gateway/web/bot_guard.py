"""Bot protection of the forms, without third parties and without requiring JavaScript.

Three signals, checked by `looks_automated` on registration, sign-in, subscription,
idea and comment forms:

- a honeypot: a text field `website` that people never see (off-screen, hidden from
  assistive technology, out of the tab order) and so leave empty;
- a minimum fill time: the form carries the time it was shown, signed
  (`form_stamp`), and a submission sooner than `SOESMART_FORM_MIN_SECONDS` after it,
  or without a valid stamp, is automated (0 turns the time check off);
- when JavaScript runs, a proof of work (ALTCHA-style, served by this gateway:
  `GET /api/v1/pow-challenge`, solved by `/static/pow.js`): a submitted solution must
  be right; a form sent without one (JavaScript off) relies on the other two.

The caller answers an automated submission as it answers a successful one and writes
nothing, so the answer tells a bot nothing (no oracle).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

from werkzeug.datastructures import MultiDict

from soesmart import signing
from soesmart.config import Settings

HONEYPOT = "website"
STAMP = "form_stamp"
POW = "pow"
STAMP_PURPOSE = "form-shown"
POW_PURPOSE = "proof-of-work"
STAMP_MAX_AGE = 24 * 3600.0  # a form left open for a day is shown again
POW_VALID_SECONDS = 600


def form_stamp(settings: Settings) -> str:
    """The signed time a form is shown at (a hidden field of every protected form)."""
    return signing.dumps(settings.secret_key, STAMP_PURPOSE, "f")


def looks_automated(form: MultiDict[str, str], settings: Settings,
                    now: float | None = None) -> bool:
    """Whether the submitted form shows a bot: honeypot filled, sent too soon, bad proof."""
    if form.get(HONEYPOT, ""):
        return True
    if settings.form_min_seconds > 0:
        shown = signing.loads(settings.secret_key, STAMP_PURPOSE, form.get(STAMP, ""),
                              STAMP_MAX_AGE, now)
        if shown is None:
            return True
        if (time.time() if now is None else now) - shown[1] < settings.form_min_seconds:
            return True
    solution = form.get(POW, "")
    return bool(solution) and not solution_holds(settings, solution, now)


def challenge(settings: Settings, now: float | None = None) -> dict[str, Any]:
    """A new challenge: find the number whose SHA-256 with the salt gives `challenge`."""
    expires = int((time.time() if now is None else now) + POW_VALID_SECONDS)
    salt = f"{secrets.token_hex(12)}?expires={expires}"
    number = secrets.randbelow(settings.pow_max_number + 1)
    digest = hashlib.sha256(f"{salt}{number}".encode()).hexdigest()
    return {"algorithm": "SHA-256", "challenge": digest, "salt": salt,
            "maxnumber": settings.pow_max_number,
            "signature": signing.signature_of(settings.secret_key, POW_PURPOSE, digest)}


def solution_holds(settings: Settings, solution: str, now: float | None = None) -> bool:
    """Whether a submitted solution (base64 JSON, as pow.js sends it) is right and fresh."""
    try:
        data = json.loads(base64.b64decode(solution, validate=True))
        salt, digest, number = str(data["salt"]), str(data["challenge"]), int(data["number"])
        signature = str(data["signature"])
        expires = int(salt.rpartition("?expires=")[2])
    except (ValueError, KeyError, TypeError):
        return False
    if expires < (time.time() if now is None else now):
        return False
    if not signing.has_signature(settings.secret_key, POW_PURPOSE, digest, signature):
        return False
    return hashlib.sha256(f"{salt}{number}".encode()).hexdigest() == digest
