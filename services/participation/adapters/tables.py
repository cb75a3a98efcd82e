"""Tables of one town's participation instance."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from soesmart.messaging.outbox import outbox_table, processed_events_table

metadata = MetaData()

# Local copy of the regional catalogue entries this town uses, fed by events:
# citizens can read and rate while the regional services are down.
measures_replica = Table(
    "measures_replica",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("summary", Text, nullable=False),
    Column("programme", String(40), nullable=False),
    Column("field_of_action", String(60), nullable=False),
    Column("status", String(30), nullable=False),
    Column("revision", Integer, nullable=False),
    # the towns the catalogue names (" "-separated slugs); empty: the whole region.
    Column("towns", Text, nullable=False, server_default=""),
    # GeoJSON geometry as the catalogue announces it (compact JSON text; 0003), for the map.
    Column("geometry", Text, nullable=True),
)

consultations = Table(
    "consultations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

consultation_measures = Table(
    "consultation_measures",
    metadata,
    Column("consultation_id", String(36), ForeignKey("consultations.id"), primary_key=True),
    Column("measure_code", String(40), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

ratings = Table(
    "ratings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("consultation_id", String(36), ForeignKey("consultations.id"), nullable=False),
    Column("measure_code", String(40), nullable=False),
    Column("participant_id", String(36), nullable=False),
    Column("effectiveness", Integer, nullable=True),
    Column("support", String(20), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # "online" (a citizen) or "paper" (a sheet entered by staff; participant_id is the sheet's id)
    Column("channel", String(10), nullable=False, server_default="online"),
    UniqueConstraint("consultation_id", "measure_code", "participant_id", name="uq_one_answer"),
)

# Returned paper questionnaires: one sheet is one anonymous respondent, entered once.
paper_sheets = Table(
    "paper_sheets",
    metadata,
    Column("id", String(36), primary_key=True),  # the respondent's id on its ratings
    Column("consultation_id", String(36), ForeignKey("consultations.id"), nullable=False),
    Column("sheet_number", Integer, nullable=False),
    Column("entered_by", String(200), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("corrected_at", DateTime(timezone=True), nullable=True),
    Column("demo", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("consultation_id", "sheet_number", name="uq_sheet_number"),
)

# Citizens of this town. After erasure the row stays (ratings, comments and ideas keep
# their anonymous author) without any personal data: email, email_key and postcode are
# NULL and the display name is replaced.
citizens = Table(
    "citizens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=True),
    Column("email_key", String(320), nullable=True, unique=True),
    Column("postcode", String(5), nullable=True),
    Column("display_name", String(60), nullable=False),
    Column("language", String(2), nullable=False),
    Column("notify_replies", Boolean, nullable=False),
    Column("follow_rated", Boolean, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Column("demo", Boolean, nullable=False, server_default="0"),
    # Signed in through an OpenID provider: a keyed hash of the provider's subject (never
    # the subject itself; NULL after erasure) and the trust level it stated (kept after
    # erasure: the town's results count answers from verified identities).
    Column("subject_hash", String(64), nullable=True),
    Column("trust_level", String(60), nullable=True),
    Column("identity_verified_at", DateTime(timezone=True), nullable=True),
    Index("uq_citizens_subject_hash", "subject_hash", unique=True),
)

# Links sent by mail: only the SHA-256 of the token is kept.
citizen_links = Table(
    "citizen_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("citizen_id", String(36), ForeignKey("citizens.id"), nullable=False),
    Column("purpose", String(30), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Index("ix_citizen_links_citizen", "citizen_id", "purpose", "created_at"),
)

# One row per counted action; the rate limits count rows of a key in a window. In the
# instance's database because gateways are stateless and several run side by side.
rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("bucket", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),
)

consultation_milestones = Table(
    "consultation_milestones",
    metadata,
    Column("consultation_id", String(36), ForeignKey("consultations.id"), primary_key=True),
    Column("milestone", String(30), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("consultation_id", String(36), ForeignKey("consultations.id"), nullable=False),
    Column("measure_code", String(40), nullable=False),
    Column("citizen_id", String(36), ForeignKey("citizens.id"), nullable=False),
    Column("parent_id", String(36), ForeignKey("comments.id"), nullable=True),
    Column("body", Text, nullable=False),  # plain text as written; pages escape it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Index("ix_comments_measure", "measure_code", "created_at"),
)

comment_flags = Table(
    "comment_flags",
    metadata,
    Column("comment_id", String(36), ForeignKey("comments.id"), primary_key=True),
    Column("citizen_id", String(36), ForeignKey("citizens.id"), primary_key=True),
    Column("reason", String(30), nullable=False),
    Column("note", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("dismissed_at", DateTime(timezone=True), nullable=True),
)

ideas = Table(
    "ideas",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("citizen_id", String(36), ForeignKey("citizens.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("field_of_action", String(60), nullable=False),
    Column("place", String(200), nullable=True),
    Column("status", String(20), nullable=False),
    Column("decision_reason", Text, nullable=False, server_default=""),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("measure_code", String(40), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
)

moderation_log = Table(
    "moderation_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("target_type", String(20), nullable=False),
    Column("target_id", String(36), nullable=False),
    Column("action", String(30), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

Index("ix_ratings_participant", ratings.c.participant_id)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
