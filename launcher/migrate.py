"""`soesmart migrate`: bring every instance's database to the newest schema.

The same alembic upgrade each service runs when it starts, for every instance of
the network (measures, notifications, gateway, one per town of the towns file),
so that it can run as its own step before a new version starts (the Kubernetes
migration Job). Safe to run again: an instance at the newest revision stays as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from soesmart.config import ServiceKind, Settings
from soesmart.towns import towns

SERVICES = Path(__file__).resolve().parents[1] / "services"


def instances(settings: Settings) -> list[tuple[ServiceKind, Settings]]:
    plan: list[tuple[ServiceKind, Settings]] = [
        ("measures", settings), ("notifications", settings), ("gateway", settings),
    ]
    plan += [("participation", settings.model_copy(update={"town": t.slug})) for t in towns()]
    return plan


def cmd_migrate(args: argparse.Namespace) -> int:
    from launcher.preflight import check, check_towns
    from soesmart.storage import make_engine, migrate

    check_towns("soesmart migrate")
    plan = instances(Settings())
    check("soesmart migrate", plan, secrets=False)  # every database answers before any changes
    for kind, settings in plan:
        engine = make_engine(settings.database_url_for(kind), **settings.engine_options())
        try:
            migrate(engine, SERVICES / kind / "migrations")
        finally:
            engine.dispose()
        print(f"{settings.instance_name(kind)}: up to date", flush=True)
    return 0
