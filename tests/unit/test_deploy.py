"""The container deployment starts what the registry knows, with the databases it needs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from launcher.registry import ENTRY_MODULE, SERVICE_KINDS
from soesmart.config import Settings
from soesmart.towns import towns

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
INIT_SQL = DEPLOY / "postgres-init.sql"
INFRASTRUCTURE = {"rabbitmq", "postgres", "mailpit"}
# The gateway processes keep no state of their own; they share one database (staff accounts).
KINDS_WITH_A_DATABASE = {"measures", "notifications", "participation", "gateway"}
SECRETS = {"SOESMART_SECRET_KEY": "test-secret", "SOESMART_COORDINATOR_TOKEN": "test-token"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def soesmart_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items() if name not in INFRASTRUCTURE}


def town_of(service: dict) -> str | None:
    command = service["command"]
    return command[command.index("--town") + 1] if "--town" in command else None


def dockerfile_instruction(name: str) -> str:
    lines = [
        line.split(None, 1)[1].strip()
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if line.split(None, 1)[:1] == [name]
    ]
    assert lines, f"the Dockerfile has no {name}"
    return lines[-1]  # the last one wins


def run_compose_config(env_file: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose)")
    # An empty env file, so a developer's deploy/.env cannot make the test pass or fail.
    env_file.write_text("")
    return subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_compose_file_runs_broker_database_mail_and_soesmart_services(compose: dict) -> None:
    assert INFRASTRUCTURE <= set(compose["services"])
    assert compose["services"]["rabbitmq"]["image"].startswith("rabbitmq:3.13")
    assert compose["services"]["postgres"]["image"] == "postgres:16"


def test_every_soesmart_service_uses_the_image_built_from_the_dockerfile(
    soesmart_services: dict[str, dict],
) -> None:
    images = set()
    for name, service in soesmart_services.items():
        build = service.get("build")
        assert isinstance(build, dict), f"{name} is not built from deploy/Dockerfile"
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT, name
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE, name
        images.add(service["image"])
    assert len(images) == 1, f"one image for all services, not {images}"


def test_every_service_in_the_compose_file_starts_through_the_runner_entry(
    soesmart_services: dict[str, dict],
) -> None:
    for name, service in soesmart_services.items():
        assert "entrypoint" not in service, f"{name} bypasses the image's ENTRYPOINT"
        assert service["command"][0] in SERVICE_KINDS, name


def test_participation_services_pass_a_town_known_to_the_registry(
    soesmart_services: dict[str, dict],
) -> None:
    registry = towns()
    for name, service in soesmart_services.items():
        if service["command"][0] == "participation":
            assert service["command"] == ["participation", "--town", town_of(service)], name
            assert town_of(service) in registry, name


def test_every_town_in_the_registry_has_exactly_one_participation_container(
    soesmart_services: dict[str, dict],
) -> None:
    running = Counter(
        town_of(s) for s in soesmart_services.values() if s["command"][0] == "participation"
    )
    assert running == Counter(towns().slugs)


def test_every_other_service_kind_runs_in_exactly_one_container(
    soesmart_services: dict[str, dict],
) -> None:
    kinds = Counter(s["command"][0] for s in soesmart_services.values())
    assert {kind: n for kind, n in kinds.items() if kind != "participation"} == {
        kind: 1 for kind in SERVICE_KINDS if kind != "participation"
    }


def test_the_dockerfile_entrypoint_runs_the_registry_entry_module() -> None:
    # The same process `soesmart run-service` execs.
    entrypoint = json.loads(dockerfile_instruction("ENTRYPOINT"))
    assert entrypoint == ["python", "-m", ENTRY_MODULE]


def test_the_image_runs_as_a_non_root_user() -> None:
    user = dockerfile_instruction("USER").split(":")[0]
    assert user not in {"root", "0"}


def test_soesmart_services_wait_for_a_healthy_broker_and_database(
    compose: dict,
    soesmart_services: dict[str, dict],
) -> None:
    for dependency in ("rabbitmq", "postgres"):
        assert "healthcheck" in compose["services"][dependency]
        for name, service in soesmart_services.items():
            assert service["depends_on"][dependency] == {"condition": "service_healthy"}, name


def test_every_database_a_service_uses_is_created_by_the_postgres_init_script(
    compose: dict,
    soesmart_services: dict[str, dict],
) -> None:
    created = set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", INIT_SQL.read_text(), re.I))
    postgres = compose["services"]["postgres"]
    for name, service in soesmart_services.items():
        kind = service["command"][0]
        if kind not in KINDS_WITH_A_DATABASE:
            continue
        settings = Settings(
            database_url=None,  # so a SOESMART_DATABASE_URL in the test's environment is moot
            database_url_template=service["environment"]["SOESMART_DATABASE_URL_TEMPLATE"],
            town=town_of(service),
        )
        url = make_url(settings.database_url_for(kind))
        assert url.database in created, f"{name} needs database {url.database!r}"
        assert url.host == "postgres", name
        assert url.username == postgres["environment"]["POSTGRES_USER"], name
        assert url.password == postgres["environment"]["POSTGRES_PASSWORD"], name


def test_the_postgres_container_runs_the_init_script(compose: dict) -> None:
    mounts = [v.split(":") for v in compose["services"]["postgres"]["volumes"]]
    assert any(
        (COMPOSE_FILE.parent / source).resolve() == INIT_SQL
        and target.startswith("/docker-entrypoint-initdb.d/")
        for source, target, *_ in mounts
    )


def test_docker_compose_accepts_the_file_and_keeps_the_instance_placeholder(
    tmp_path: Path,
) -> None:
    result = run_compose_config(tmp_path / "empty.env", {**os.environ, **SECRETS})
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    template = resolved["services"]["measures"]["environment"]["SOESMART_DATABASE_URL_TEMPLATE"]
    assert template.endswith("/{instance}")


def test_docker_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    result = run_compose_config(tmp_path / "empty.env", env)
    assert result.returncode != 0
    assert "SOESMART_SECRET_KEY" in result.stderr or "SOESMART_COORDINATOR_TOKEN" in result.stderr


def docker_engine_here() -> bool:
    """An engine to build with: DOCKER_HOST names one, or the default socket exists."""
    return bool(os.environ.get("DOCKER_HOST")) or Path("/var/run/docker.sock").exists()


def test_the_image_builds_and_its_entry_answers_help() -> None:
    docker = pytest.importorskip("docker")
    if not docker_engine_here():
        pytest.skip("no Docker engine here (no DOCKER_HOST, no /var/run/docker.sock)")
    # An engine is there: from here on, any failure to talk to it is a failure.
    client = docker.from_env()
    assert client.ping()
    image, _ = client.images.build(
        path=str(ROOT), dockerfile="deploy/Dockerfile", tag="soesmart:test", rm=True
    )
    # containers.run raises ContainerError on a non-zero exit.
    usage = client.containers.run(image, ["--help"], remove=True).decode()
    for kind in SERVICE_KINDS:
        assert kind in usage
    uid = client.containers.run(image, entrypoint=["id", "-u"], remove=True).decode().strip()
    assert uid != "0"
