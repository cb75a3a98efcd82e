"""Tables of the notifications service: subscriptions with consent, the mail queue."""

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
    Column("scope_type", String(20), nullable=False),  # measure (later: town, field, region)
    Column("scope_value", String(60), nullable=False),
    Column("language", String(2), nullable=False, default="de"),
    Column("status", String(20), nullable=False),  # pending, confirmed, unsubscribed
    Column("confirm_token_hash", String(64), nullable=True, unique=True),
    Column("confirm_expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Column("confirmation_sent_at", DateTime(timezone=True), nullable=True),
    Column("unsubscribed_at", DateTime(timezone=True), nullable=True),
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
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

processed_events = processed_events_table(metadata)
