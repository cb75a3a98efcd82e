"""Tables of the notifications service: subscriptions with consent, recipients, items, mail queue."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from soesmart.messaging.outbox import processed_events_table

metadata = MetaData()

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("scope_type", String(20), nullable=False),  # measure, field_of_action, town, region
    Column("scope_value", String(60), nullable=False),
    Column("language", String(2), nullable=False, default="de"),
    Column("status", String(20), nullable=False),  # pending, confirmed, unsubscribed
    Column("frequency", String(10), nullable=False, default="immediate",
           server_default="immediate"),  # immediate, daily, weekly
    Column("confirm_token_hash", String(64), nullable=True, unique=True),
    Column("confirm_expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),  # consent: time + scope
    Column("confirmation_sent_at", DateTime(timezone=True), nullable=True),
    Column("unsubscribed_at", DateTime(timezone=True), nullable=True),
    # Where consent came from when it was not this subscription's own double opt-in
    # (e.g. "bewertet in Soest", consent given with the confirmed registration).
    Column("consent_source", String(300), nullable=True),
    UniqueConstraint("email", "scope_type", "scope_value", name="uq_subscription_scope"),
    Index("ix_subscriptions_scope", "scope_type", "scope_value", "status"),
)

# The outgoing mail queue. `idempotency_key` (cause + recipient) is unique, so a
# redelivered event or a restart in the middle of a fan-out never queues a mail twice.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("cause", String(80), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("text_body", Text, nullable=True),
    Column("html_body", Text, nullable=True),
    Column("unsubscribe_url", String(500), nullable=True),
    Column("status", String(20), nullable=False),  # pending, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(1000), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    # The sender's display name (a town's participation); NULL: the region's.
    Column("sender_name", String(200), nullable=True),
    # A mail carrying a link that expires is not sent after the link has (migration 0003).
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

# One row per address: the opaque id its preference and unsubscribe-all links are
# signed with (never the address itself in a URL), its language, whether it bounces,
# and when its last digests went out.
recipients = Table(
    "recipients",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("language", String(2), nullable=False, default="de"),
    Column("bouncing_since", DateTime(timezone=True), nullable=True),
    Column("bounce_reason", String(1000), nullable=True),
    # When the address stopped reply and idea mails by their unsubscribe link (migration 0004).
    Column("personal_mails_stopped_at", DateTime(timezone=True), nullable=True),
    Column("last_daily_digest_at", DateTime(timezone=True), nullable=True),
    Column("last_weekly_digest_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# What a person is still to hear about: one row per address and cause (the unique
# key makes a redelivered event or a second matching scope harmless). Rows leave
# this table in the same transaction that puts them into one bundled mail.
notification_items = Table(
    "notification_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(320), nullable=False),
    Column("cause", String(80), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subscription_id", String(36), nullable=False),
    Column("frequency", String(10), nullable=False),
    Column("area", String(200), nullable=False),
    Column("measure_code", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("recipient", "cause", name="uq_item_recipient_cause"),
    Index("ix_items_due", "frequency", "due_at"),
    Index("ix_items_subscription", "subscription_id"),
)

# The consent log (Art. 7 (1) DSGVO): every consent given or withdrawn, with when, through
# which channel and to which version of the text shown. `email` becomes the keyed hash
# ("hmac:…") when the address is erased; a row is never deleted with its subscription.
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("subscription_id", String(36), nullable=True),
    Column("purpose", String(200), nullable=False),  # e.g. "measure:VEP-RAD-01"
    Column("action", String(20), nullable=False),  # given, withdrawn
    Column("at", DateTime(timezone=True), nullable=False),
    Column("channel", String(40), nullable=False),  # mail-link, one-click, preferences, …
    Column("text_version", String(120), nullable=False),
    Column("source", String(300), nullable=True),
    Index("ix_consents_email", "email"),
)

# What must outlive an erased address: that it unsubscribed or bounces, by keyed hash
# only, so that consent from elsewhere ("follow what I rate") is not taken over it.
address_suppressions = Table(
    "address_suppressions",
    metadata,
    Column("address_hash", String(80), primary_key=True),
    Column("reason", String(20), nullable=False),  # unsubscribed, bouncing
    Column("at", DateTime(timezone=True), nullable=False),
)

processed_events = processed_events_table(metadata)
