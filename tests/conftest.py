"""Shared fixtures: real RabbitMQ vhosts, SQLite and PostgreSQL databases, an SMTP server.

The test process itself is not monkey-patched by eventlet: services run as real
processes, started the way `soesmart up` starts them, and tests talk to them over
the broker, HTTP and SMTP.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from soesmart.config import Settings
from tests.support.cluster import rabbit_cluster  # noqa: F401 - the session's own cluster
from tests.support.infra import (
    create_postgres_database,
    create_vhost,
    delete_vhost,
    drop_postgres_database,
)

if TYPE_CHECKING:
    from tests.support.smtp import SmtpServer

TIERS = ("unit", "integration", "system")

# In CI (CI=true, as `.ci/run` is started) nothing may be skipped but these: a skipped
# browser, broker-restart or PostgreSQL test would hide exactly what it is there to find.
EXPECTED_SKIPS_IN_CI = {
    "tests/unit/test_deploy.py::test_the_image_builds_and_its_entry_answers_help":
        "building the image needs a Docker engine; CI has only the client",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


class SkipLedger:
    """Every skip of the run, of a test or of a whole module, with its reason."""

    def __init__(self) -> None:
        self.skips: list[tuple[str, str]] = []

    def note(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        self.skips.append((report.nodeid, reason.removeprefix("Skipped: ")))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.note(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.note(report)


LEDGER = pytest.StashKey[SkipLedger]()


def pytest_configure(config: pytest.Config) -> None:
    ledger = SkipLedger()
    config.stash[LEDGER] = ledger
    config.pluginmanager.register(ledger, "soesmart-skip-ledger")


def unexpected_skips(config: pytest.Config) -> list[tuple[str, str]]:
    return [(nodeid, reason) for nodeid, reason in config.stash[LEDGER].skips
            if nodeid not in EXPECTED_SKIPS_IN_CI]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if in_ci() and unexpected_skips(session.config) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    skips = config.stash[LEDGER].skips
    if not skips:
        return
    terminalreporter.section("skipped tests")
    for nodeid, reason in skips:
        if nodeid in EXPECTED_SKIPS_IN_CI:
            terminalreporter.line(f"expected: {nodeid}: {reason} ({EXPECTED_SKIPS_IN_CI[nodeid]})")
        else:
            terminalreporter.line(f"{'UNEXPECTED' if in_ci() else 'skipped'}: {nodeid}: {reason}")
    unexpected = unexpected_skips(config)
    if in_ci() and unexpected:
        terminalreporter.line(f"CI: {len(unexpected)} unexpected skip(s): the run fails", red=True)


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
        demo_region=False,
        town="soest", public_url="http://127.0.0.1:8000", secret_key="test-secret",
    )


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    from tests.support.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()
