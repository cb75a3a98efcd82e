"""Tables of the gateway's own database: staff accounts, their sessions, failed sign-ins,
sign-ins under way at an OpenID provider."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),  # stored lower-case
    Column("display_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("town", String(40), nullable=True),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("demo", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # accounts made by a sign-in through an OpenID provider: the provider's id and `sub`
    Column("provider", String(40), nullable=True),
    Column("subject", String(255), nullable=True),
    Index("uq_staff_accounts_provider_subject", "provider", "subject", unique=True),
)

# Page sessions and API tokens alike: only a hash of the random value is kept, so a
# copy of the database does not sign anyone in.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(36), ForeignKey("staff_accounts.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # "page" or "api"
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# One row per failed sign-in, under two keys: "account:<email>" and "address:<ip>".
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_sign_in_failures_key_time", "key", "failed_at"),
)

# A sign-in sent to an OpenID provider and not yet back: found by the hash of its `state`,
# used once (a second callback with the same state is refused), valid for 10 minutes.
oidc_pending = Table(
    "oidc_pending",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("provider", String(40), nullable=False),
    Column("town", String(40), nullable=True),  # citizens: the town where they started
    Column("nonce", String(100), nullable=False),
    Column("code_verifier", String(200), nullable=False),
    Column("next_url", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("used_at", DateTime(timezone=True), nullable=True),
)
