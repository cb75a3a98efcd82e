"""Tables of one town's participation instance."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
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
    UniqueConstraint("consultation_id", "measure_code", "participant_id", name="uq_one_answer"),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
