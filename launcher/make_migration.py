"""Developer tool: `python -m launcher.make_migration <service> "message"` autogenerates a migration."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from soesmart.storage import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    service, message = sys.argv[1], sys.argv[2]
    migrations = ROOT / "services" / service / "migrations"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/x.db")
        migrate(engine, migrations)
        cfg = Config()
        cfg.set_main_option("script_location", str(migrations))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            n = len(list((migrations / "versions").glob("*.py")))
            command.revision(cfg, message=message, autogenerate=True, rev_id=f"{n + 1:04d}")


if __name__ == "__main__":
    main()
