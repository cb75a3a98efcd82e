"""`soesmart backup DIR` and `soesmart restore DIR [--only INSTANCE]`: every instance's database.

A backup writes one file per instance (measures, notifications, gateway, one per
town of the towns file), each one consistent state of its database taken while
the services run (`dumps.py`), and last a `manifest.json` naming for each: the
database kind, how it was copied, the alembic revision, the time, the rows per
table and the file's sha256. Without that manifest a directory is no backup.

A restore checks the whole manifest before it touches anything: every instance
must be one of this configuration, its revision one this code knows (a backup of
a newer version is refused), its database kind the configured one, its file intact,
and its process stopped (no fresh heartbeat). Then it loads each chosen instance,
compares the rows with the manifest, migrates it to this code's newest revision and
makes the combined results agree with the towns again (`recovery.py`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from launcher import dumps
from launcher.dumps import BackupRefused
from launcher.migrate import SERVICES, instances
from launcher.preflight import check, check_towns
from launcher.probe import check_alive, heartbeat_path
from soesmart.config import ServiceKind, Settings

MANIFEST = "manifest.json"
FORMAT = 1
RUNNING_WITHIN = 30.0  # a heartbeat younger than this: the process is running


@dataclass(frozen=True)
class Instance:
    name: str
    kind: ServiceKind
    settings: Settings

    @property
    def url(self) -> str:
        return self.settings.database_url_for(self.kind)

    @property
    def migrations(self) -> Path:
        return SERVICES / self.kind / "migrations"


def configured() -> dict[str, Instance]:
    """Every instance of this configuration; each must have a database of its own."""
    plan: dict[str, Instance] = {}
    for kind, settings in instances(Settings()):
        name = settings.instance_name(kind)
        plan[name] = Instance(name, kind, settings)
    urls: dict[str, str] = {}
    for instance in plan.values():
        if instance.url in urls:
            raise BackupRefused(f"{urls[instance.url]} and {instance.name} use the same database; "
                                "name one per instance with SOESMART_DATABASE_URL_TEMPLATE")
        urls[instance.url] = instance.name
    return plan


def known_revisions(migrations: Path) -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def cmd_backup(args: argparse.Namespace) -> int:
    target = Path(args.dir)
    if target.exists() and any(target.iterdir()):
        print(f"{target} is not empty; a backup goes into a new or empty directory.",
              file=sys.stderr)
        return 2
    check_towns("soesmart backup")
    try:
        plan = configured()
    except BackupRefused as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 2
    check("soesmart backup", [(i.kind, i.settings) for i in plan.values()], secrets=False)
    target.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    started = time.monotonic()
    try:
        for instance in plan.values():
            began = time.monotonic()
            taken_at = datetime.now(UTC)
            kind = dumps.database_kind(instance.url)
            if kind == "sqlite":
                snap = dumps.backup_sqlite(instance.url, target / f"{instance.name}.db")
            else:
                snap = dumps.backup_postgres(instance.url, target, instance.name)
            file = target / snap.file
            entries[instance.name] = {
                "kind": instance.kind, "town": instance.settings.town if instance.kind ==
                "participation" else None, "database": kind, "method": snap.method,
                "file": snap.file, "bytes": file.stat().st_size, "sha256": dumps.sha256(file),
                "revision": snap.revision, "taken_at": taken_at.isoformat(), "rows": snap.rows,
            }
            print(f"{instance.name}: {sum(snap.rows.values())} rows, revision {snap.revision}, "
                  f"{snap.method}, {time.monotonic() - began:.2f} s", flush=True)
    except (BackupRefused, OSError) as exc:
        print(f"backup failed, nothing usable was written: {exc}", file=sys.stderr)
        for entry in entries.values():
            (target / entry["file"]).unlink(missing_ok=True)
        return 1
    manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(),
                "instances": entries}
    partial = target / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    partial.replace(target / MANIFEST)
    print(f"Backed up {len(entries)} instances into {target} in "
          f"{time.monotonic() - started:.1f} s.")
    return 0


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(f"{path} does not exist: not a backup of `soesmart backup`") from None
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"{path} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{path} is not a manifest this version reads (format {FORMAT})")
    return manifest


def problems_of(name: str, entry: dict[str, Any], plan: dict[str, Instance],
                source: Path) -> list[str]:
    """Why `entry` of the manifest cannot be restored here (empty: it can)."""
    instance = plan.get(name)
    if instance is None:
        return [f"{name}: unknown instance, not one of this configuration (towns file: "
                f"{', '.join(n for n in plan if n.startswith('participation_'))})"]
    found = []
    if entry.get("kind") != instance.kind:
        found.append(f"{name}: the backup is of a {entry.get('kind')} instance")
    revision = entry.get("revision")
    if revision is not None and revision not in known_revisions(instance.migrations):
        found.append(f"{name}: the backup's schema revision {revision!r} is unknown to this "
                     f"version of soesmart (made by a newer one?); restore it with that version")
    here = dumps.database_kind(instance.url)
    if entry.get("database") != here:
        found.append(f"{name}: the backup is of a {entry.get('database')} database, this "
                     f"configuration uses {here}")
    file = source / str(entry.get("file"))
    if not file.is_file():
        found.append(f"{name}: {file} is missing")
    elif dumps.sha256(file) != entry.get("sha256"):
        found.append(f"{name}: {file} is damaged (sha256 differs from the manifest)")
    if check_alive(heartbeat_path(instance.settings, instance.kind), RUNNING_WITHIN) is None:
        found.append(f"{name}: its service is running (fresh heartbeat); stop it first")
    return found


def restore_one(instance: Instance, entry: dict[str, Any], source: Path) -> None:
    file = source / entry["file"]
    if entry["database"] == "sqlite":
        dumps.restore_sqlite(file, instance.url)
    else:
        dumps.restore_postgres(file, entry["method"], instance.url, instance.migrations,
                               entry["revision"])
    found = dumps.current_rows(instance.url)
    if found["rows"] != entry["rows"] or found["revision"] != entry["revision"]:
        raise BackupRefused(f"{instance.name}: restored rows differ from the manifest: "
                            f"{found} instead of {entry['rows']}")
    from soesmart.storage import make_engine, migrate

    engine = make_engine(instance.url, **instance.settings.engine_options())
    try:
        migrate(engine, instance.migrations)
    finally:
        engine.dispose()


def cmd_restore(args: argparse.Namespace) -> int:
    from launcher.recovery import rebuild_from_towns
    from soesmart.towns import towns

    source = Path(args.dir)
    check_towns("soesmart restore")
    try:
        plan = configured()
        check("soesmart restore", [(i.kind, i.settings) for i in plan.values()], secrets=False)
        manifest = read_manifest(source)
        saved: dict[str, Any] = manifest.get("instances") or {}
        chosen = args.only or list(saved)
        problems = [f"{name}: not in this backup ({', '.join(saved)})"
                    for name in chosen if name not in saved]
        for name in chosen:
            if name in saved:
                problems += problems_of(name, saved[name], plan, source)
        if problems:
            raise BackupRefused("nothing was restored:\n  " + "\n  ".join(problems))
    except BackupRefused as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    for name in chosen:
        began = time.monotonic()
        try:
            restore_one(plan[name], saved[name], source)
        except BackupRefused as exc:
            print(f"restore of {name} failed: {exc}", file=sys.stderr)
            return 1
        print(f"{name}: restored from {saved[name]['taken_at']} "
              f"({sum(saved[name]['rows'].values())} rows) and migrated, "
              f"{time.monotonic() - began:.2f} s", flush=True)
    missing = [name for name in plan if name not in saved]
    if missing and not args.only:
        print(f"not in the backup, left as they are: {', '.join(missing)}", file=sys.stderr)
    restored_towns = [towns().get(plan[n].settings.town or "") for n in chosen
                      if plan[n].kind == "participation"]
    everything = "measures" in chosen
    if not args.no_rebuild and (everything or restored_towns):
        began = time.monotonic()
        try:
            report = rebuild_from_towns(
                Settings(), list(towns()) if everything else restored_towns, everything)
        except Exception as exc:  # noqa: BLE001 - a town's database away: say what to do
            print(f"the databases are restored, but the combined results could not be rebuilt "
                  f"({exc}); run `soesmart restore` again or `soesmart rebuild-results`",
                  file=sys.stderr)
            return 1
        for done in report:
            print(f"results of {done.town}: {done.ratings} ratings replayed, {done.events} "
                  "events handed to the measures service again", flush=True)
        print(f"combined results rebuilt from the towns in {time.monotonic() - began:.2f} s")
    print(f"Restored {len(chosen)} instance(s) from {source} in "
          f"{time.monotonic() - started:.1f} s.")
    return 0
