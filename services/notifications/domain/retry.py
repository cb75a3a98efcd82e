"""When a mail that could not be delivered is tried again, and when a receiving domain may go on.

After RFC 5321 section 4.5.4.1: a temporary failure is retried at growing intervals
(first after a few minutes, which is what a greylisting server waits for, then twice
as long each time up to about an hour) until a give-up time of days, not minutes.
A server that asks for fewer mails (421, 451 "too many", a dropped connection) holds
back every mail to its domain, not the one mail it refused, and none of them fails.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    window: timedelta = timedelta(days=5)  # after the mail was queued: then it is given up
    first: timedelta = timedelta(minutes=5)
    longest: timedelta = timedelta(hours=1)
    throttle: timedelta = timedelta(minutes=1)  # the first wait of a domain that is busy

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try of one mail."""
        return min(self.first * 2 ** min(max(attempts - 1, 0), 30), self.longest)

    def throttle_delay(self, busy_in_a_row: int) -> timedelta:
        return min(self.throttle * 2 ** min(max(busy_in_a_row - 1, 0), 30), self.longest)

    def gives_up(self, queued_at: datetime, next_try: datetime) -> bool:
        """Whether a mail whose next try would be at `next_try` is given up instead."""
        return next_try > queued_at + self.window


class DomainBackoff:
    """How often in a row each receiving domain said it is busy (reset by a delivered mail).

    Kept in the process: after a restart a busy domain starts again at the first wait,
    and the stored next try of its mails still holds them back until then.
    """

    def __init__(self) -> None:
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()

    def busy(self, domain: str) -> int:
        """Count one more refusal; returns how many in a row."""
        with self._lock:
            self._busy[domain] = self._busy.get(domain, 0) + 1
            return self._busy[domain]

    def delivered(self, domain: str) -> None:
        if domain in self._busy:
            with self._lock:
                self._busy.pop(domain, None)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()
