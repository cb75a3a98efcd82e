"""Retention in a town's instance: what is kept only for a while is deleted when its time is up.

Registrations never confirmed go after `SOESMART_RETENTION_UNCONFIRMED_DAYS` (7);
rate-limit hits once the longest window (an hour) has passed. Run by the instance's
background loop; the clock is the instance's, so a test moves it.
"""

from __future__ import annotations

from datetime import timedelta

from services.participation.adapters.erasure import delete_unconfirmed
from services.participation.adapters.unit_of_work import UnitOfWork

RATE_LIMIT_MEMORY = timedelta(hours=1)  # the longest window of any limit


def apply_retention(uow: UnitOfWork, unconfirmed_days: float) -> dict[str, int]:
    """Delete what is past its time; returns how many of each."""
    now = uow.instance.now()
    with uow:
        registrations = delete_unconfirmed(uow.connection, now - timedelta(days=unconfirmed_days))
        hits = uow.rate_limits.forget_before(now - RATE_LIMIT_MEMORY)
        uow.commit()
    return {"unconfirmed_registrations": registrations, "rate_limit_hits": int(hits)}
