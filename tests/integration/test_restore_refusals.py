"""`soesmart restore` refuses a backup that does not fit, naming the problem, and changes nothing;
the logical copy (PostgreSQL without a matching pg_dump) restores what pg_dump would."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from launcher import dumps
from launcher.cli import main
from launcher.probe import beat
from services.measures.service_layer.handlers import MeasuresApp
from soesmart.config import Settings
from soesmart.contracts import CatalogueEntry, MeasureStatus
from tests.support.infra import create_postgres_database, drop_postgres_database


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every instance migrated and backed up once; each test gets its own copy."""
    root = tmp_path_factory.mktemp("region")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOESMART_DATA_DIR", str(root / "var"))
        env.setenv("SOESMART_DEMO", "false")
        assert main(["migrate"]) == 0
        assert main(["backup", str(root / "backup")]) == 0
    return root


@pytest.fixture
def backup(made_once: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(made_once, tmp_path / "copy")
    monkeypatch.setenv("SOESMART_DATA_DIR", str(tmp_path / "copy" / "var"))
    monkeypatch.setenv("SOESMART_DEMO", "false")
    yield tmp_path / "copy" / "backup"


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    before = {p.name: dumps.sha256(p) for p in sorted(Path(Settings().data_dir).glob("*.db"))}
    capsys.readouterr()
    assert main(["restore", *args]) == 2
    after = {p.name: dumps.sha256(p) for p in sorted(Path(Settings().data_dir).glob("*.db"))}
    assert after == before, "a refused restore changed a database"
    return capsys.readouterr().err


def edit(backup: Path, change: dict) -> None:
    path = backup / "manifest.json"
    manifest = json.loads(path.read_text())
    for name, values in change.items():
        manifest["instances"].setdefault(name, dict(manifest["instances"]["participation_olpe"]))
        manifest["instances"][name].update(values)
    path.write_text(json.dumps(manifest))


def test_a_backup_into_a_directory_that_is_not_empty_is_refused(
        backup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backup", str(backup)]) == 2
    assert "is not empty" in capsys.readouterr().err


def test_a_directory_without_a_manifest_is_no_backup(
        backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (backup / "manifest.json").unlink()
    assert "manifest.json does not exist" in refused(capsys, str(backup))


def test_an_instance_this_configuration_does_not_have_is_refused(
        backup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(backup, {"participation_lippstadt": {"town": "lippstadt"}})
    message = refused(capsys, str(backup))
    assert "participation_lippstadt: unknown instance" in message
    assert "nothing was restored" in message


def test_a_backup_of_a_newer_schema_than_the_code_is_refused(
        backup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(backup, {"measures": {"revision": "0999"}})
    message = refused(capsys, str(backup), "--only", "measures")
    assert "measures: the backup's schema revision '0999' is unknown to this version" in message


def test_a_damaged_file_and_an_instance_not_in_the_backup_are_refused(
        backup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (backup / "notifications.db").open("ab") as f:
        f.write(b"\0")
    message = refused(capsys, str(backup), "--only", "notifications", "--only", "billing")
    assert "notifications.db is damaged (sha256 differs" in message
    assert "billing: not in this backup" in message


def test_an_instance_whose_service_runs_is_not_restored_under_it(
        backup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    beat(Settings().data_dir / "health" / "participation_soest.heartbeat")
    message = refused(capsys, str(backup), "--only", "participation_soest")
    assert "participation_soest: its service is running" in message


def test_the_logical_copy_of_a_postgresql_database_restores_every_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name, url = create_postgres_database()
    try:
        # Given a measures database with a measure, its history and the outbox event
        app = MeasuresApp(Settings(database_url=url, demo=False))
        app.import_catalogue(json.dumps([CatalogueEntry(
            code="VEP-RAD-02", title="Radweg auf der ehemaligen Bahntrasse", summary="Kurz",
            programme="vep_klima_plus", field_of_action="cycling", status=MeasureStatus.PROPOSED,
            co2_saving_t_per_year=12.5).model_dump(mode="json")]), "json", "Test")
        app.engine.dispose()
        before = rows(url)
        # When it is copied without pg_dump, emptied and loaded back
        monkeypatch.setenv("SOESMART_BACKUP_LOGICAL", "true")
        snap = dumps.backup_postgres(url, tmp_path, "measures")
        assert snap.method == "logical" and snap.rows["measures"] == 1
        migrations = Path(__file__).resolve().parents[2] / "services/measures/migrations"
        dumps.restore_postgres(tmp_path / snap.file, "logical", url, migrations, snap.revision)
        # Then every row is there as it was, and new rows get new ids
        assert rows(url) == before
        again = MeasuresApp(Settings(database_url=url, demo=False))
        again.load_demo_catalogue()
        again.engine.dispose()
    finally:
        drop_postgres_database(name)


def rows(url: str) -> dict[str, list[tuple]]:
    engine = dumps.make_engine(url)
    try:
        with engine.connect() as conn:
            metadata = MetaData()
            metadata.reflect(conn)
            return {n: [tuple(r) for r in conn.execute(select(t).order_by(*t.c))]
                    for n, t in metadata.tables.items()}
    finally:
        engine.dispose()


def test_instances_sharing_one_database_are_no_configuration_to_back_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOESMART_DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    assert main(["backup", str(tmp_path / "backup")]) == 2
    assert "measures and notifications use the same database" in capsys.readouterr().err
    assert not (tmp_path / "backup").exists()
