"""A plain `postgresql://` URL, as the README lets people write it, works against a real
PostgreSQL: the pg8000 driver is set on the way (psycopg2 is not even installed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from soesmart.storage import make_engine
from tests.support.infra import create_postgres_database, drop_postgres_database


@pytest.fixture
def plain_url() -> Iterator[str]:
    name, url = create_postgres_database()
    yield make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    drop_postgres_database(name)


def test_a_plain_postgresql_url_connects_with_pg8000(plain_url: str) -> None:
    assert plain_url.startswith("postgresql://")
    engine = make_engine(plain_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert engine.dialect.driver == "pg8000"
    finally:
        engine.dispose()
