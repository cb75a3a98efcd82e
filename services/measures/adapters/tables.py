"""Tables of the measures service (catalogue, history, results projection, outbox)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
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

measures = Table(
    "measures",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("programme", String(40), nullable=False),
    Column("field_of_action", String(60), nullable=False),
    Column("towns", String(500), nullable=False, default=""),  # comma list; empty = region
    Column("status", String(30), nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Fact-sheet fields (migration 0002); server defaults fill the rows that existed before.
    Column("description", Text, nullable=False, default="", server_default=""),
    Column("co2_saving_t_per_year", Float, nullable=True),
    Column("cost_class", String(20), nullable=True),
    Column("responsible_body", String(200), nullable=False, default="", server_default=""),
    Column("place", String(200), nullable=True),
    # GeoJSON geometry (RFC 7946, WGS84) as compact JSON text; NULL: no place on a map (0004).
    Column("geometry", Text, nullable=True),
)

status_history = Table(
    "status_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("measure_code", String(40), ForeignKey("measures.code"), nullable=False, index=True),
    Column("status", String(30), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("progress", Integer, nullable=True),
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# One row per rating of any town: the last version seen. It makes the projection
# idempotent and lets a changed answer move the tally.
rating_projection = Table(
    "rating_projection",
    metadata,
    Column("rating_id", String(36), primary_key=True),
    Column("town", String(40), nullable=False),
    Column("measure_code", String(40), nullable=False),
    Column("effectiveness", Integer, nullable=True),
    Column("support", String(20), nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The day this rating is counted on in `daily_participation`, and the version that
    # day came from: when an earlier version arrives late, the count moves to its day.
    Column("counted_day", Date, nullable=True),
    Column("counted_version", Integer, nullable=True),
    # The consultation the rating answers (0004; NULL for ratings projected before).
    Column("consultation_id", String(36), nullable=True),
    # "online" or "paper" (migration 0005): a rating keeps the channel it came by.
    Column("channel", String(10), nullable=False, server_default="online"),
    Index("ix_rating_projection_measure", "measure_code", "consultation_id"),
)

# The towns' consultations as their milestone events tell them (0004): which measures
# each asked, when, and how far it got; a measure's story names them.
town_consultations = Table(
    "town_consultations",
    metadata,
    Column("consultation_id", String(36), primary_key=True),
    Column("town", String(40), nullable=False),
    Column("title", String(300), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=True),
)

town_consultation_measures = Table(
    "town_consultation_measures",
    metadata,
    Column("consultation_id", String(36), ForeignKey("town_consultations.consultation_id"),
           primary_key=True),
    Column("measure_code", String(40), primary_key=True, index=True),
)

TALLY_COUNTERS = (
    "answers", "eff_count", "eff_sum", "eff_1", "eff_2", "eff_3", "eff_4", "eff_5",
    "sup_yes", "sup_rather_yes", "sup_rather_no", "sup_no",
    "paper_answers",  # of `answers`, those from paper questionnaires (migration 0005)
)

tallies = Table(
    "tallies",
    metadata,
    Column("measure_code", String(40), primary_key=True),
    Column("town", String(40), primary_key=True),
    *(Column(name, Integer, nullable=False, default=0, server_default="0") for name in TALLY_COUNTERS),
    UniqueConstraint("measure_code", "town", name="uq_tally"),
)

# Participation per town and (Europe/Berlin) day. A rating counts once, on the day of
# its first version; changing an answer later does not count again. New citizens,
# comments and ideas count once per event of the town (migration 0003).
daily_participation = Table(
    "daily_participation",
    metadata,
    Column("town", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("ratings", Integer, nullable=False, default=0),
    Column("citizens", Integer, nullable=False, default=0, server_default="0"),
    Column("comments", Integer, nullable=False, default=0, server_default="0"),
    Column("ideas", Integer, nullable=False, default=0, server_default="0"),
)
PARTICIPATION_COUNTERS = ("citizens", "ratings", "comments", "ideas")

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
