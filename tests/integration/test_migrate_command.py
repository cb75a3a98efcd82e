"""`soesmart migrate` (the Kubernetes migration Job) brings every instance of the towns file
to the newest schema, and a second run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from soesmart.config import Settings
from soesmart.towns import towns

SERVICES = Path(__file__).resolve().parents[2] / "services"


def head_revision(kind: str) -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SERVICES / kind / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head
    return head


def revisions(data_dir: Path) -> dict[str, str]:
    found = {}
    for path in sorted(data_dir.glob("*.db")):
        with create_engine(f"sqlite:///{path}").connect() as conn:
            found[path.stem] = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    return found


def migrate(data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
    env["SOESMART_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "launcher.cli", "migrate"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_migrate_brings_every_instance_to_its_head_and_is_safe_to_run_twice(tmp_path: Path) -> None:
    expected = {"measures": head_revision("measures"), "notifications": head_revision("notifications"),
                "gateway": head_revision("gateway")}
    for town in towns():
        expected[Settings(town=town.slug).instance_name("participation")] = head_revision("participation")
    first = migrate(tmp_path)
    assert first.returncode == 0, first.stderr
    assert revisions(tmp_path) == expected
    second = migrate(tmp_path)
    assert second.returncode == 0, second.stderr
    assert revisions(tmp_path) == expected
    assert second.stdout == first.stdout
