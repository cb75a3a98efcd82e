"""Database URLs as people write them: PostgreSQL gets the pg8000 driver (README)."""

from __future__ import annotations

import pytest

from soesmart.storage import normalise_url


@pytest.mark.parametrize("url", [
    "postgresql://soesmart:geheim@db.example:5432/participation_soest",
    "postgresql+psycopg2://soesmart:geheim@db.example:5432/participation_soest",
])
def test_a_postgresql_url_gets_the_pg8000_driver_and_keeps_the_rest(url: str) -> None:
    assert normalise_url(url) == "postgresql+pg8000://soesmart:geheim@db.example:5432/participation_soest"


@pytest.mark.parametrize("url", [
    "postgresql+pg8000://soesmart:geheim@db.example/measures",
    "sqlite:////var/lib/soesmart/measures.db",
])
def test_other_urls_stay_as_they_are(url: str) -> None:
    assert normalise_url(url) == url
