"""What the use cases share besides storage: the clock, links with signed tokens, sender names."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.notifications.adapters.clock import Clock
from services.notifications.adapters.mails import sign, verify
from services.notifications.domain.retry import RetryPolicy
from soesmart.towns import UnknownTown, towns

# Sender names: mails caused by one town's events come from that town's participation.
REGION_SENDER = "5 für Südwestfalen – Beteiligung"
TOWN_SENDER = "{town} – Bürgerbeteiligung"


@dataclass(frozen=True)
class Links:
    """Links in mails, and the signed tokens they carry (never an address in a URL)."""

    public_url: str
    secret_key: str

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def unsubscribe_token(self, subscription_id: str) -> str:
        return f"{subscription_id}.{sign(self.secret_key, 'unsubscribe', subscription_id)}"

    def unsubscribe_all_token(self, recipient_id: str) -> str:
        return f"{recipient_id}.{sign(self.secret_key, 'unsubscribe-all', recipient_id)}"

    def personal_mails_token(self, recipient_id: str) -> str:
        """The unsubscribe token of reply and idea mails: they stop for the address."""
        return f"{recipient_id}.{sign(self.secret_key, 'personal-mails', recipient_id)}"

    def preferences_token(self, recipient_id: str) -> str:
        return f"{recipient_id}.{sign(self.secret_key, 'preferences', recipient_id)}"

    def signed_id(self, token: str, purpose: str) -> str | None:
        """The id a token of `purpose` was signed for; None if the signature does not hold."""
        value, _, signature = (token or "").partition(".")
        return value if value and verify(self.secret_key, purpose, value, signature) else None


@dataclass(frozen=True)
class Context:
    clock: Clock
    links: Links
    batch_wait: timedelta  # the quiet period of "immediate" mails
    mail_from: str
    retry: RetryPolicy = RetryPolicy()
    sign: Callable[[bytes], bytes] | None = None  # DKIM: the message with its signature

    def now(self) -> datetime:
        return self.clock.now()


def aware(value: datetime | None) -> datetime | None:
    """A stored time as UTC: SQLite hands back naive datetimes; everything stored is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def town_name(slug: str) -> str:
    try:
        return towns().get(slug).name
    except UnknownTown:
        return slug


def town_sender(town: str | None) -> str | None:
    """The sender name of mails caused by `town`'s events; None: the region's."""
    return TOWN_SENDER.format(town=town_name(town)) if town else None


def address_key(email: str) -> str:
    # Idempotency keys name the address by a hash: short, and no address in the log's keys.
    return hashlib.sha256(email.lower().encode()).hexdigest()[:24]
