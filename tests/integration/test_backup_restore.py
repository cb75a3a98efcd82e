"""`soesmart backup` and `soesmart restore` on SQLite and PostgreSQL, and the disasters they are for.

The regional database is lost and restored from a backup older than the towns'
latest events: the combined results come back exactly as they were, and every
event of the towns delivered once more counts nothing twice. A town's database is
lost and restored from an older backup: what it sends again has the event ids the
region has seen, and the combined results agree with what the town still has.

The towns and the region are the services' own applications in this process;
their events go from each town's outbox into the measures service's event handler,
as relay and broker deliver them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from launcher.migrate import SERVICES
from services.measures.adapters import tables as m
from services.measures.entrypoints.service import MeasuresService
from services.measures.service_layer.handlers import MeasuresApp
from services.participation.adapters import tables as p
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import DecideIdea, PostComment, ProposeIdea, RateMeasure, Support, parse_event
from soesmart.storage import make_engine, migrate
from soesmart.towns import towns
from tests.support.citizens import confirmed_citizen
from tests.support.infra import create_instance_databases, drop_instance_databases
from tests.support.participation import open_consultation, town_app

CODES = ("VEP-RAD-02", "VEP-FUSS-01", "MPK-EN-01")  # asked in every town
TOWNS = ("soest", "olpe")  # the network of these tests (fewer databases to make)
INSTANCES = ["measures", "notifications", "gateway", *(f"participation_{t}" for t in TOWNS)]


class Clock:
    """The real time: the day a live event is counted on comes from its `occurred_at`, the
    day a rebuilt rating is counted on from its stored `created_at`; they agree in real time."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Region:
    """Every instance of the network on one kind of database, and the `soesmart` command."""

    settings: Settings
    env: dict[str, str]
    prefix: str | None = None
    clock: Clock = field(default_factory=Clock)
    towns: dict[str, ParticipationApp] = field(default_factory=dict)
    measures: MeasuresApp | None = None

    def town(self, slug: str) -> ParticipationApp:
        if slug not in self.towns:
            app = town_app(self.settings.model_copy(update={"town": slug}), self.clock)
            open_consultation(app, CODES)
            self.towns[slug] = app
        return self.towns[slug]

    def region(self) -> MeasuresApp:
        if self.measures is None:
            self.measures = MeasuresApp(self.settings)
        return self.measures

    def deliver(self) -> int:
        """Hand every unsent event of the towns to the measures service's handler, oldest first."""
        consumer = SimpleNamespace(app=self.region())
        sent = 0
        for app in self.towns.values():
            with app.engine.begin() as conn:
                rows = conn.execute(select(p.outbox.c.id, p.outbox.c.payload).where(
                    p.outbox.c.published_at.is_(None)).order_by(p.outbox.c.id)).all()
                for _, payload in rows:
                    MeasuresService.on_event(consumer, parse_event(json.loads(payload)))  # type: ignore[arg-type]
                conn.execute(update(p.outbox).where(p.outbox.c.id.in_([r[0] for r in rows]))
                             .values(published_at=self.clock()))
            sent += len(rows)
        return sent

    def deliver_everything_again(self) -> int:
        for app in self.towns.values():
            with app.engine.begin() as conn:
                conn.execute(update(p.outbox).values(published_at=None))
        return self.deliver()

    def results(self) -> dict[str, Any]:
        """The combined results as the measures service keeps them (not its cache)."""
        with self.region().engine.connect() as conn:
            def rows(table: Any, *columns: str) -> list[tuple[Any, ...]]:
                cols = [table.c[c] for c in columns] if columns else list(table.c)
                return [tuple(r) for r in conn.execute(select(*cols).order_by(*cols))]
            return {
                "tallies": rows(m.tallies),
                "days": rows(m.daily_participation),
                "ratings": rows(m.rating_projection, "rating_id", "town", "measure_code",
                                "effectiveness", "support", "version", "counted_day"),
                "measures": rows(m.measures, "code", "status"),
            }

    def lose(self, instance: str) -> None:
        """The database of `instance` is gone (the disk, the server's volume)."""
        for app in [*self.towns.values(), *([self.measures] if self.measures else [])]:
            app.engine.dispose()
        if instance == "measures":
            self.measures = None
        if self.prefix:
            drop_instance_databases(self.prefix, [instance], recreate=True)
            return
        for suffix in ("", "-wal", "-shm"):
            (self.settings.data_dir / f"{instance}.db{suffix}").unlink(missing_ok=True)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "launcher.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def region(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Region]:
    settings = Settings(data_dir=tmp_path / "var", demo=False, broker_url="amqp://127.0.0.1:1/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
    towns_file = tmp_path / "towns.toml"
    towns_file.write_text("".join(
        f'[[town]]\nslug = "{t.slug}"\nname = "{t.name}"\npopulation = {t.population}\n'
        f'postcodes = {json.dumps(list(t.postcodes))}\n\n' for t in towns() if t.slug in TOWNS))
    env.update(SOESMART_DATA_DIR=str(settings.data_dir), SOESMART_DEMO="false",
               SOESMART_TOWNS_FILE=str(towns_file))
    prefix = None
    if request.param == "postgresql":
        prefix, template = create_instance_databases(INSTANCES)
        settings = settings.model_copy(update={"database_url_template": template})
        env["SOESMART_DATABASE_URL_TEMPLATE"] = template
    net = Region(settings, env, prefix)
    for kind in ("notifications", "gateway"):  # the towns and the region migrate by themselves
        engine = make_engine(settings.database_url_for(kind))  # type: ignore[arg-type]
        migrate(engine, SERVICES / kind / "migrations")
        engine.dispose()
    yield net
    for app in [*net.towns.values(), *([net.measures] if net.measures else [])]:
        app.engine.dispose()
    if prefix:
        drop_instance_databases(prefix, INSTANCES)


def rate(app: ParticipationApp, citizen: uuid.UUID, code: str, effectiveness: int,
         support: Support) -> None:
    app.rate(RateMeasure(measure_code=code, participant_id=citizen,
                         effectiveness=effectiveness, support=support))


def take_part(app: ParticipationApp, answers: list[tuple[str, int, Support]],
              comment: bool = False, idea: bool = False) -> uuid.UUID:
    """A new confirmed citizen of `app`'s town who rates and perhaps comments and proposes."""
    citizen = confirmed_citizen(app)
    for code, effectiveness, support in answers:
        rate(app, citizen, code, effectiveness, support)
    if comment:
        app.post_comment(PostComment(citizen_id=citizen, measure_code=answers[0][0],
                                     body="Das hilft den Kindern auf dem Schulweg."))
    if idea:
        app.propose_idea(ProposeIdea(citizen_id=citizen, title="Fahrradbügel am Bahnhof",
                                     description="Am Bahnhof fehlen überdachte Fahrradbügel.",
                                     field_of_action="cycling"))
    return citizen


def backed_up(region: Region, target: Path) -> dict[str, Any]:
    done = region.cli("backup", str(target))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((target / "manifest.json").read_text())


def tally(region: Region, code: str, town: str) -> dict[str, int]:
    """The counters of a (measure, town)."""
    with region.region().engine.connect() as conn:
        row = conn.execute(select(m.tallies).where(
            m.tallies.c.measure_code == code, m.tallies.c.town == town)).mappings().one()
    return {k: v for k, v in row.items() if k not in ("measure_code", "town")}


def test_the_region_and_a_town_lost_and_restored_from_an_older_backup(
        region: Region, tmp_path: Path) -> None:
    # Given two towns whose citizens rate, comment and propose ideas, counted by the region
    soest, olpe = region.town("soest"), region.town("olpe")
    early = take_part(soest, [("VEP-RAD-02", 4, Support.YES), ("MPK-EN-01", 2, Support.NO)],
                      comment=True, idea=True)
    take_part(olpe, [("VEP-RAD-02", 5, Support.RATHER_YES)], comment=True)
    region.deliver()
    # ... one more citizen, whose events are not sent yet when the backup is taken
    take_part(soest, [("VEP-RAD-02", 3, Support.RATHER_YES)], comment=True)
    manifest = backed_up(region, tmp_path / "backup")
    assert set(manifest["instances"]) == set(INSTANCES)
    assert manifest["instances"]["measures"]["rows"]["rating_projection"] == 3
    assert manifest["instances"]["participation_soest"]["rows"]["ratings"] == 3
    region.deliver()
    # ... and after it: a changed answer, new citizens, an accepted idea
    rate(soest, early, "VEP-RAD-02", 1, Support.NO)
    take_part(soest, [("VEP-RAD-02", 2, Support.NO), ("VEP-FUSS-01", 3, Support.RATHER_NO)])
    take_part(olpe, [("VEP-RAD-02", 2, Support.NO), ("VEP-FUSS-01", 5, Support.YES)], idea=True)
    idea = soest.list_ideas()[0]
    soest.decide_idea(DecideIdea(idea_id=idea.id, decision="accept", actor="Admin Soest"))
    region.deliver()
    expected = region.results()
    assert len(expected["ratings"]) == 8 and len(expected["measures"]) == 1

    # When the regional database is lost and restored from the older backup
    region.lose("measures")
    restored = region.cli("restore", str(tmp_path / "backup"), "--only", "measures")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "measures: restored from" in restored.stdout
    # Then the combined results are exactly those before the loss
    assert region.results() == expected
    # ... and every event the towns ever announced, delivered again, counts nothing twice
    assert region.deliver_everything_again() > 10
    assert region.results() == expected

    # When a town's database is lost and restored from the same backup
    olpe_before = tally(region, "VEP-RAD-02", "olpe")
    region.lose("participation_soest")
    del region.towns["soest"]
    restored = region.cli("restore", str(tmp_path / "backup"), "--only", "participation_soest")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    soest = region.towns["soest"] = ParticipationApp(
        region.settings.model_copy(update={"town": "soest"}), clock=region.clock)
    # Then what it sends again is what was unsent at the backup, under ids the region has seen
    with soest.engine.connect() as conn:
        again = dict(conn.execute(select(p.outbox.c.event_id, p.outbox.c.event_type).where(
            p.outbox.c.published_at.is_(None))).all())
    with region.region().engine.connect() as conn:
        seen = set(conn.execute(select(m.processed_events.c.event_id)).scalars())
    counted_by_id = {e for e, kind in again.items() if kind in ("CitizenConfirmed", "CommentPosted")}
    assert len(counted_by_id) == 2 and counted_by_id <= seen
    assert list(again.values()).count("RatingRecorded") == 1
    assert region.deliver() == len(again)
    # ... which counts nothing twice: new citizens, comments and ideas stay as counted
    after = region.results()
    assert [d[:2] + d[3:] for d in after["days"]] == [d[:2] + d[3:] for d in expected["days"]]
    # ... and the region's figures are the town's own again: its answers of the backup
    assert tally(region, "VEP-RAD-02", "soest") == {
        "answers": 2, "eff_count": 2, "eff_sum": 7, "eff_1": 0, "eff_2": 0, "eff_3": 1,
        "eff_4": 1, "eff_5": 0, "sup_yes": 1, "sup_rather_yes": 1, "sup_rather_no": 0, "sup_no": 0,
        "paper_answers": 0}
    assert tally(region, "VEP-RAD-02", "olpe") == olpe_before
    # ... so the first citizen's new answer (again their second version) moves the tally
    rate(soest, early, "VEP-RAD-02", 2, Support.RATHER_NO)
    region.deliver()
    moved = tally(region, "VEP-RAD-02", "soest")
    assert (moved["answers"], moved["eff_4"], moved["eff_2"], moved["sup_yes"],
            moved["sup_rather_no"]) == (2, 0, 1, 0, 1)
