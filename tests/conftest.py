"""Shared fixtures: real RabbitMQ vhosts, SQLite and PostgreSQL databases, an SMTP server.

The test process itself is not monkey-patched by eventlet: services run as real
processes, started the way `soesmart up` starts them, and tests talk to them over
the broker, HTTP and SMTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from soesmart.config import Settings
from tests.support.infra import (
    create_postgres_database,
    create_vhost,
    delete_vhost,
    drop_postgres_database,
)

if TYPE_CHECKING:
    from tests.support.smtp import SmtpServer

TIERS = ("unit", "integration", "system")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in ("integration", "system"):
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def vhost() -> Iterator[tuple[str, str]]:
    name, url = create_vhost()
    yield name, url
    delete_vhost(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name, url = create_postgres_database()
    yield url
    drop_postgres_database(name)


@pytest.fixture
def settings(tmp_path: Path, vhost: tuple[str, str], database_url: str) -> Settings:
    return Settings(
        broker_url=vhost[1], data_dir=tmp_path, database_url=database_url, demo=True,
        town="soest", public_url="http://127.0.0.1:8000", secret_key="test-secret",
    )


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    from tests.support.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()
