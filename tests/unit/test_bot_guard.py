"""Bot protection of the forms: honeypot, minimum fill time (signed), proof of work."""

from __future__ import annotations

import base64
import hashlib
import json
import time

from werkzeug.datastructures import MultiDict

from services.gateway.web import bot_guard
from soesmart.config import Settings

SETTINGS = Settings(secret_key="bot-test", form_min_seconds=2, pow_max_number=2000)


def form(**values: str) -> MultiDict[str, str]:
    return MultiDict(values)


def solve(ch: dict[str, object]) -> int:
    for n in range(int(ch["maxnumber"]) + 1):  # type: ignore[call-overload]
        if hashlib.sha256(f"{ch['salt']}{n}".encode()).hexdigest() == ch["challenge"]:
            return n
    raise AssertionError("no solution")


def solution(ch: dict[str, object], number: int) -> str:
    return base64.b64encode(json.dumps({**ch, "number": number}).encode()).decode()


def test_a_person_who_took_their_time_passes() -> None:
    stamp = bot_guard.form_stamp(SETTINGS)
    assert not bot_guard.looks_automated(form(form_stamp=stamp, website=""), SETTINGS,
                                         now=time.time() + 3)


def test_a_filled_honeypot_a_quick_or_missing_or_forged_stamp_is_a_bot() -> None:
    stamp = bot_guard.form_stamp(SETTINGS)
    later = time.time() + 3
    assert bot_guard.looks_automated(form(form_stamp=stamp, website="http://spam"), SETTINGS,
                                     now=later)
    assert bot_guard.looks_automated(form(form_stamp=stamp), SETTINGS, now=time.time())
    assert bot_guard.looks_automated(form(), SETTINGS, now=later)
    forged = bot_guard.form_stamp(Settings(secret_key="another"))
    assert bot_guard.looks_automated(form(form_stamp=forged), SETTINGS, now=later)


def test_without_a_minimum_time_only_the_honeypot_counts() -> None:
    relaxed = SETTINGS.model_copy(update={"form_min_seconds": 0})
    assert not bot_guard.looks_automated(form(), relaxed)
    assert bot_guard.looks_automated(form(website="x"), relaxed)


def test_a_solved_challenge_passes_and_a_wrong_or_forged_or_stale_one_does_not() -> None:
    stamp = bot_guard.form_stamp(SETTINGS)
    later = time.time() + 3
    ch = bot_guard.challenge(SETTINGS)
    right = solve(ch)
    assert not bot_guard.looks_automated(form(form_stamp=stamp, pow=solution(ch, right)),
                                         SETTINGS, now=later)
    assert bot_guard.looks_automated(form(form_stamp=stamp, pow=solution(ch, right + 1)),
                                     SETTINGS, now=later)
    assert bot_guard.looks_automated(form(form_stamp=stamp, pow="bm90IGpzb24="), SETTINGS,
                                     now=later)
    forged = {**ch, "signature": "A" * 64}
    assert not bot_guard.solution_holds(SETTINGS, solution(forged, right))
    assert not bot_guard.solution_holds(SETTINGS, solution(ch, right),
                                        now=time.time() + bot_guard.POW_VALID_SECONDS + 5)
