"""Bad configuration is refused at start, by the command or the process, naming the problem,
before anything has started or changed: a towns file with a duplicate slug or postcode, a
secret production needs and nobody set, a database that cannot be reached."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.infra import free_port

TOWNS = ('[[town]]\nslug = "soest"\nname = "Soest"\npopulation = 47000\npostcodes = ["59494"]\n\n'
         '[[town]]\nslug = "lippstadt"\nname = "Lippstadt"\npopulation = 68000\n'
         'postcodes = ["59555", "{second}"]\n\n'
         '[[town]]\nslug = "{third}"\nname = "Olpe"\npopulation = 25000\npostcodes = ["57462"]\n')


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
    clean.update(SOESMART_DATA_DIR=str(tmp_path / "var"), SOESMART_DEMO="false", **env)
    return subprocess.run([sys.executable, "-m", *args], env=clean, capture_output=True,
                          text=True, timeout=120, check=False)


def nothing_started(tmp_path: Path) -> bool:
    made = list((tmp_path / "var").rglob("*")) if (tmp_path / "var").exists() else []
    return [p for p in made if p.suffix in (".db", ".log", ".heartbeat")] == []


def test_soesmart_up_refuses_a_towns_file_with_a_postcode_given_to_two_towns(tmp_path: Path) -> None:
    towns = tmp_path / "towns.toml"
    towns.write_text(TOWNS.format(second="59494", third="olpe"))
    done = run(tmp_path, "launcher.cli", "up", "--port", str(free_port()),
               SOESMART_TOWNS_FILE=str(towns))
    assert done.returncode != 0
    assert "the postcode 59494 is given to both soest and lippstadt" in done.stderr
    assert "soesmart is running" not in done.stdout and nothing_started(tmp_path)


def test_migrate_refuses_a_towns_file_with_a_slug_twice(tmp_path: Path) -> None:
    towns = tmp_path / "towns.toml"
    towns.write_text(TOWNS.format(second="59556", third="soest"))
    done = run(tmp_path, "launcher.cli", "migrate", SOESMART_TOWNS_FILE=str(towns))
    assert done.returncode == 1
    assert f"towns file {towns}: the slug 'soest' is given to towns 1 and 3" in done.stderr
    assert nothing_started(tmp_path)


def test_a_gateway_without_its_secret_key_does_not_start(
        tmp_path: Path, vhost: tuple[str, str]) -> None:
    done = run(tmp_path, "launcher.service_main", "gateway", SOESMART_BROKER_URL=vhost[1])
    assert done.returncode == 1
    assert "gateway refused to start" in done.stderr
    assert "SOESMART_SECRET_KEY is not set" in done.stderr and "Traceback" not in done.stderr


def test_a_service_whose_database_cannot_be_reached_does_not_start(
        tmp_path: Path, vhost: tuple[str, str]) -> None:
    done = run(tmp_path, "launcher.service_main", "measures", SOESMART_BROKER_URL=vhost[1],
               SOESMART_DATABASE_URL="postgresql://soesmart:geheim@127.0.0.1:5432/soesmart_missing")
    assert done.returncode == 1
    assert ("measures: the database postgresql://soesmart:***@127.0.0.1:5432/soesmart_missing "
            "cannot be reached") in done.stderr
    assert "geheim" not in done.stderr and "Traceback" not in done.stderr


def test_migrate_changes_nothing_when_one_database_cannot_be_reached(tmp_path: Path) -> None:
    done = run(tmp_path, "launcher.cli", "migrate",
               SOESMART_DATABASE_URL_TEMPLATE=f"postgresql://postgres@127.0.0.1:{free_port()}/x_{{instance}}")
    assert done.returncode == 1
    assert "soesmart migrate refused to start" in done.stderr
    assert "participation_olpe: the database postgresql://postgres@127.0.0.1:" in done.stderr
    assert "up to date" not in done.stdout


def test_a_service_process_refuses_a_towns_file_with_a_slug_twice(tmp_path: Path) -> None:
    towns = tmp_path / "towns.toml"
    towns.write_text(TOWNS.format(second="59556", third="soest"))
    done = run(tmp_path, "launcher.service_main", "participation", "--town", "soest",
               SOESMART_TOWNS_FILE=str(towns))
    assert done.returncode == 1
    assert "participation/soest refused to start" in done.stderr
    assert f"towns file {towns}: the slug 'soest' is given to towns 1 and 3" in done.stderr
    assert "Traceback" not in done.stderr and nothing_started(tmp_path)
