"""What the towns' participation adds to the region: accepted ideas and participation per day.

On a real database (SQLite and PostgreSQL) and a real broker: an accepted idea
becomes a proposed measure announced to every town through the outbox, once however
often its event arrives; new citizens, comments and ideas are counted per town and
day, once per event; a rebuild of the results leaves those counts alone.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from services.measures.service_layer.handlers import MeasuresApp
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeMeasureStatus,
    CitizenConfirmed,
    CommentPosted,
    Event,
    IdeaAccepted,
    IdeaSubmitted,
    MeasureStatus,
    RatingRecorded,
    Source,
    Support,
    idea_measure_code,
)
from soesmart.messaging.topology import MEASURES_QUEUE, QueueSpec, declare_all, participation_queue
from soesmart.towns import towns
from tests.support.bus import publish_event
from tests.support.infra import create_vhost, delete_vhost, eventually, wait_drained
from tests.support.network import Network

# 23:30 UTC on 2 March is already 3 March in the towns (Europe/Berlin, UTC+1)
LATE_EVENING = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
MORNING = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
IDEA = uuid.UUID("4f1c2a9e-0000-4000-8000-000000000001")
DESCRIPTION = ("Am Bahnhof fehlen überdachte Fahrradbügel. Morgens sind alle belegt, und viele "
               "Räder stehen an Geländern. " + "Mehr Platz schafft Abhilfe. " * 20)


@pytest.fixture
def app(settings: Settings) -> MeasuresApp:
    return MeasuresApp(settings.model_copy(update={"demo": False}))


def from_town(town: str) -> Source:
    return Source(service="participation", town=town)


def accepted(town: str = "soest", idea_id: uuid.UUID = IDEA, field: str = "cycling",
             **kwargs: Any) -> IdeaAccepted:
    return IdeaAccepted(source=from_town(town), town=town, idea_id=idea_id,
                        title=kwargs.pop("title", "Fahrradbügel am Bahnhof"),
                        description=kwargs.pop("description", DESCRIPTION),
                        field_of_action=field, place=kwargs.pop("place", "Bahnhofsvorplatz"),
                        author_email="idee@example.org", **kwargs)


def drain(broker_url: str, spec: QueueSpec) -> list[dict[str, Any]]:
    out = []
    with Connection(broker_url) as conn:
        queue = spec.to_queue()(conn.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            out.append(json.loads(message.body))
    return out


def relay_all(app: MeasuresApp) -> None:
    while app.relay.relay_once():
        pass


def per_day(app: MeasuresApp) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    return {(d.day, d.town): (d.citizens, d.ratings, d.comments, d.ideas)
            for d in app.participation_per_day().days}


# --------------------------------------------------------------------------- accepted ideas


def test_an_accepted_idea_becomes_a_proposed_measure_that_every_town_hears_of(
    app: MeasuresApp, settings: Settings
) -> None:
    # Given the towns' queues are waiting
    declare_all(settings.broker_url, towns())

    # When Soest accepts a citizen's cycling idea
    published = app.accept_idea(accepted())

    # Then the catalogue has it as a proposed VEP Klima+ measure of Soest, with its origin
    code = idea_measure_code("soest", IDEA)
    assert published is not None and published.code == code
    measure = app.get_measure(code)
    assert (measure.status, measure.programme, measure.field_of_action, measure.towns) == (
        MeasureStatus.PROPOSED, "vep_klima_plus", "cycling", ("soest",))
    assert measure.title == "Fahrradbügel am Bahnhof" and measure.place == "Bahnhofsvorplatz"
    assert measure.description == DESCRIPTION and measure.responsible_body == ""
    # the summary: whole first sentences, as many as fit in 300 characters
    assert measure.summary.startswith("Am Bahnhof fehlen überdachte Fahrradbügel. Morgens sind")
    assert 250 < len(measure.summary) <= 300 and measure.summary.endswith("Abhilfe.")
    [entry] = measure.history
    assert (entry.status, entry.note, entry.changed_by) == (
        MeasureStatus.PROPOSED, "Idee aus der Bürgerbeteiligung Soest", "Bürgerbeteiligung Soest")

    # And the towns' replicas get it through the outbox
    relay_all(app)
    for town in ("soest", "olpe"):
        events = [e for e in drain(settings.broker_url, participation_queue(town))
                  if e["type"] == "MeasurePublished"]
        assert [(e["code"], e["status"], e["towns"], e["revision"]) for e in events] == [
            (code, "proposed", ["soest"], 1)]


def test_an_idea_outside_mobility_joins_the_climate_plan(app: MeasuresApp) -> None:
    published = app.accept_idea(accepted("menden", uuid.uuid4(), field="buildings",
                                         description="Kurz.", place=None))
    assert published is not None
    measure = app.get_measure(published.code)
    assert measure.programme == "masterplan_klimapakt" and measure.towns == ("menden",)
    assert measure.summary == "Kurz." and measure.place is None
    assert measure.history[0].changed_by == "Bürgerbeteiligung Menden (Sauerland)"


def test_a_redelivered_idea_changes_nothing_even_after_the_measure_moved_on(
    app: MeasuresApp,
) -> None:
    event = accepted()
    assert app.accept_idea(event) is not None
    code = idea_measure_code("soest", IDEA)
    app.change_status(ChangeMeasureStatus(code=code, status=MeasureStatus.IN_CONSULTATION,
                                          note="In die Beteiligung", changed_by="Koordination"))
    pending = app.relay.pending()

    assert app.accept_idea(event) is None
    assert app.accept_idea(accepted(title="Anderer Titel")) is None  # same idea, new event id

    measure = app.get_measure(code)
    assert measure.status == MeasureStatus.IN_CONSULTATION and measure.revision == 2
    assert measure.title == "Fahrradbügel am Bahnhof" and len(measure.history) == 2
    assert app.relay.pending() == pending
    assert [m.code for m in app.list_measures()] == [code]


# --------------------------------------------------------------------------- participation per day


def participation_events() -> list[Event]:
    soest, olpe = from_town("soest"), from_town("olpe")
    return [
        CitizenConfirmed(source=soest, town="soest", citizen_id=uuid.uuid4(), occurred_at=MORNING),
        CitizenConfirmed(source=soest, town="soest", citizen_id=uuid.uuid4(),
                         occurred_at=LATE_EVENING),
        CommentPosted(source=soest, town="soest", comment_id=uuid.uuid4(),
                      consultation_id=uuid.uuid4(), measure_code="VEP-RAD-02", occurred_at=MORNING),
        CommentPosted(source=soest, town="soest", comment_id=uuid.uuid4(),
                      consultation_id=uuid.uuid4(), measure_code="VEP-RAD-02",
                      parent_id=uuid.uuid4(), occurred_at=MORNING),
        IdeaSubmitted(source=olpe, town="olpe", idea_id=uuid.uuid4(), title="Bank am See",
                      field_of_action="walking", occurred_at=MORNING),
    ]


def test_citizens_comments_and_ideas_count_once_per_town_and_local_day(app: MeasuresApp) -> None:
    events = participation_events()
    # Given every event delivered twice, in an order of its own
    for event in events + list(reversed(events)):
        app.record_participation(event)  # type: ignore[arg-type]
    app.record_rating(RatingRecorded(
        source=from_town("soest"), town="soest", consultation_id=uuid.uuid4(),
        rating_id=uuid.uuid4(), measure_code="VEP-RAD-02", effectiveness=4, support=Support.YES,
        version=1, occurred_at=MORNING))

    # Then each counts once, on its day in the towns (23:30 UTC is the next day there)
    assert per_day(app) == {
        ("2026-03-02", "soest"): (1, 1, 2, 0),
        ("2026-03-03", "soest"): (1, 0, 0, 0),
        ("2026-03-02", "olpe"): (0, 0, 0, 1),
    }
    assert app.participation_per_day(town="olpe").days[0].ideas == 1
    csv_text = app.participation_csv()
    assert csv_text.startswith("\ufeffTag;Stadt;Neue Teilnehmende;Bewertungen;Kommentare;Ideen\r\n")
    assert "02.03.2026;Soest;1;1;2;0\r\n" in csv_text and "02.03.2026;Olpe;0;0;0;1\r\n" in csv_text


def test_a_rebuild_of_the_ratings_leaves_citizens_comments_and_ideas_as_they_are(
    app: MeasuresApp,
) -> None:
    for event in participation_events():
        app.record_participation(event)  # type: ignore[arg-type]
    for when in (MORNING, MORNING + timedelta(days=5)):
        app.record_rating(RatingRecorded(
            source=from_town("soest"), town="soest", consultation_id=uuid.uuid4(),
            rating_id=uuid.uuid4(), measure_code="VEP-RAD-02", effectiveness=3,
            support=Support.NO, version=1, occurred_at=when))

    app.reset_projection("soest")

    # The ratings are forgotten until the replay brings them back; the rest stays
    assert per_day(app) == {
        ("2026-03-02", "soest"): (1, 0, 2, 0),
        ("2026-03-03", "soest"): (1, 0, 0, 0),
        ("2026-03-02", "olpe"): (0, 0, 0, 1),
    }


# --------------------------------------------------------------------------- through the broker


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost,
                  extra_env={"SOESMART_DEMO": "false"})
    yield net
    net.stop()
    delete_vhost(vhost)


def test_a_running_measures_service_takes_ideas_and_counts_from_the_towns_queues(
    network: Network,
) -> None:
    # Given the measures service running as its own process, the queues declared
    declare_all(network.broker_url, towns())
    network.start(only=["measures"], wait=False)

    # When Olpe accepts an idea and a citizen confirms, each event delivered twice
    idea = accepted("olpe", uuid.uuid4())
    citizen = CitizenConfirmed(source=from_town("olpe"), town="olpe", citizen_id=uuid.uuid4(),
                               occurred_at=MORNING)
    for event in (idea, idea, citizen, citizen):
        publish_event(network.broker_url, event)

    # Then the towns hear of one new measure ...
    code = idea_measure_code("olpe", idea.idea_id)
    seen: list[dict[str, Any]] = []

    def published() -> bool:
        network.assert_alive()
        seen.extend(e for e in drain(network.broker_url, participation_queue("soest"))
                    if e["type"] == "MeasurePublished")
        return bool(seen)

    eventually(published, timeout=30, interval=0.2, message="the new measure is announced")
    # ... and the citizen is counted once
    database = network.data_dir / "measures.db"

    def citizens() -> list[tuple[str, int]]:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT town, citizens FROM daily_participation").fetchall()

    eventually(citizens, timeout=15, message="the citizen is counted")
    wait_drained(network.vhost, MEASURES_QUEUE.name)  # the second copy is consumed too
    assert citizens() == [("olpe", 1)]
    published()
    assert [(e["code"], e["status"]) for e in seen] == [(code, "proposed")]
    network.assert_alive()
