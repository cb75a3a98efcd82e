"""A database of the previous release, with its data, upgraded to this code's newest schema.

`fixtures/previous_release/` holds what each service's database looked like at the
previous release (main at the commit in `revisions.json`): the alembic revision
of each service and rows made there by the services' own use cases (a measure with
its status history and a counted rating, a town's consultation, citizen, ratings,
comment and accepted idea, a subscription with its mail, staff accounts). The test
builds that schema with the migrations up to that revision, puts the rows in,
migrates to whatever the newest revision is now (so every migration added later is
covered without touching this test), and finds every row with its values and the
data readable through the current use cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, and_, select, text

from launcher import logical
from launcher.migrate import SERVICES
from soesmart.config import Settings
from soesmart.storage import make_engine, migrate

FIXTURES = Path(__file__).parent / "fixtures" / "previous_release"
PREVIOUS = json.loads((FIXTURES / "revisions.json").read_text())["revisions"]


def fixture_rows(kind: str) -> list[tuple[str, dict[str, Any]]]:
    lines = (FIXTURES / f"{kind}.jsonl").read_text().splitlines()
    return [(r["table"], r["row"]) for r in map(json.loads, lines)]


def comparable(value: Any) -> Any:
    """A stored value as the fixture writes it; times compared in UTC (SQLite keeps no zone)."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return logical.plain_value(value)


def revision(engine: Any) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def head(kind: str) -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SERVICES / kind / "migrations"))
    return str(ScriptDirectory.from_config(config).get_current_head())


# ------------------------------------------------------------- the data, read by today's code

def read_measures(settings: Settings) -> None:
    from services.measures.service_layer.handlers import MeasuresApp

    app = MeasuresApp(settings)
    measure = app.get_measure("VEP-RAD-02")
    assert measure.status.value == "decided" and measure.co2_saving_t_per_year == 120.0
    assert [h.status.value for h in measure.history][-1] == "decided"
    results = {r.code: r for r in app.regional_results().measures}
    assert results["VEP-RAD-02"].total.answers == 1
    assert sum(d.citizens for d in app.participation_per_day().days) == 1
    app.engine.dispose()


def read_participation(settings: Settings) -> None:
    from services.participation.service_layer.handlers import ParticipationApp

    app = ParticipationApp(settings.model_copy(update={"town": "soest"}))
    (consultation,) = app.list_consultations()
    assert consultation.status == "open" and len(consultation.measures) == 2
    citizen = next(r for t, r in fixture_rows("participation") if t == "citizens")["id"]
    assert app.get_citizen(citizen).display_name == "Beispiel (Demo)"
    (rating,) = app.my_ratings(citizen)
    assert (rating["effectiveness"], rating["version"]) == (5, 2)
    assert [c.body for c in app.list_comments("VEP-RAD-02")] == ["Gute Idee für den Schulweg."]
    assert [i.status for i in app.list_ideas()] == ["accepted"]
    assert {m.code: m.tally.answers for m in app.town_results(consultation.id).measures}[
        "VEP-RAD-02"] == 1
    app.engine.dispose()


def read_notifications(settings: Settings) -> None:
    from services.notifications.service_layer.handlers import NotificationsApp

    app = NotificationsApp(settings)
    assert [(c.cause, c.status, c.count) for c in app.delivery_log().counts] == [
        ("confirm_subscription", "sent", 1)]
    app.engine.dispose()


def read_gateway(settings: Settings) -> None:
    from services.gateway.service_layer.staff import StaffAccounts

    accounts = StaffAccounts(settings)
    assert accounts.sign_in("admin.soest@demo.soesmart.example", "demo-soest-2026", "127.0.0.1")
    accounts.engine.dispose()


READ: dict[str, Callable[[Settings], None]] = {
    "measures": read_measures, "participation": read_participation,
    "notifications": read_notifications, "gateway": read_gateway,
}


@pytest.mark.parametrize("kind", sorted(PREVIOUS))
def test_a_database_of_the_previous_release_keeps_everything_when_upgraded(
        kind: str, database_url: str) -> None:
    migrations = SERVICES / kind / "migrations"
    engine = make_engine(database_url)
    # Given the previous release's schema with its data
    logical.load(engine, FIXTURES / f"{kind}.jsonl", migrations, PREVIOUS[kind])
    assert revision(engine) == PREVIOUS[kind]
    # When it is upgraded to this code's newest schema (twice: the second run changes nothing)
    migrate(engine, migrations)
    migrate(engine, migrations)
    assert revision(engine) == head(kind)
    # Then every row is there, with its values in every column that still exists
    metadata = MetaData()
    with engine.connect() as conn:
        metadata.reflect(conn)
        for table_name, row in fixture_rows(kind):
            assert table_name in metadata.tables, f"table {table_name} is gone"
            table = metadata.tables[table_name]
            typed = logical.typed_row(table, {k: v for k, v in row.items() if k in table.c})
            key = and_(*(c == typed[c.name] for c in table.primary_key.columns))
            found = conn.execute(select(table).where(key)).mappings().first()
            assert found is not None, f"{table_name} lost the row {row}"
            kept = {k: comparable(v) for k, v in row.items() if k in found}
            assert {k: comparable(found[k]) for k in kept} == kept, table_name
    engine.dispose()
    # ... and today's use cases read it
    READ[kind](Settings(database_url=database_url, demo=False, broker_url="amqp://127.0.0.1:1/"))
