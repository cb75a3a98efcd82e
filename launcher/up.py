"""`soesmart up`: every service as its own process on this machine, kept running.

Starts RabbitMQ in Docker when none is reachable, generates the secrets into the
data directory, starts the regional services, one participation instance per
town and the gateway, waits until the gateway is ready, prints the addresses
and restarts a process that exits (giving up on one that keeps failing).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from launcher import preflight
from launcher.migrate import instances
from launcher.registry import ENTRY_MODULE
from launcher.staff import ensure_demo_staff
from soesmart.config import Settings
from soesmart.towns import towns


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        self.proc = subprocess.Popen(
            [sys.executable, "-m", ENTRY_MODULE, *self.args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        log.close()


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when the supervisor dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def broker_reachable(url: str, timeout: float = 3.0) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def start_broker_container(url: str) -> bool:
    """Start RabbitMQ in Docker when a Docker engine is available; False if there is none."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env()
        client.ping()
    except Exception:  # noqa: BLE001 - no engine on this machine
        return False
    try:
        container = client.containers.get("soesmart-rabbitmq")
        container.start()
    except docker.errors.NotFound:
        client.containers.run(
            "rabbitmq:3.13-management", name="soesmart-rabbitmq", detach=True,
            ports={"5672/tcp": 5672, "15672/tcp": 15672},
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if broker_reachable(url, 2):
            return True
        time.sleep(1)
    return False


def coordinator_token(settings: Settings) -> str:
    if settings.coordinator_token:
        return settings.coordinator_token
    path = settings.data_dir / "coordinator-token"
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(24)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def secret_key(settings: Settings) -> str:
    if settings.secret_key != Settings.model_fields["secret_key"].default:
        return settings.secret_key
    path = settings.data_dir / "secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def plan_children(settings: Settings, env: dict[str, str], log_dir: Path) -> list[Child]:
    children = [
        Child("measures", ["measures"], env, log_dir / "measures.log"),
        Child("notifications", ["notifications"], env, log_dir / "notifications.log"),
    ]
    for town in towns():
        children.append(
            Child(f"participation/{town.slug}", ["participation", "--town", town.slug],
                  {**env, "SOESMART_TOWN": town.slug}, log_dir / f"participation-{town.slug}.log")
        )
    children.append(Child("gateway", ["gateway"], env, log_dir / "gateway.log"))
    return children


def wait_ready(base_url: str, deadline_s: float, children: list[Child]) -> dict:
    deadline = time.monotonic() + deadline_s
    last: dict = {}
    while time.monotonic() < deadline:
        for child in children:
            if child.proc is not None and child.proc.poll() is not None:
                raise SystemExit(
                    f"{child.name} stopped at start-up; see {child.log_path}"
                )
        try:
            response = requests.get(base_url + "/readyz", timeout=5)
            last = response.json()
            if response.status_code == 200:
                return last
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"the network did not become ready in time: {json.dumps(last)}")


def cmd_up(args: argparse.Namespace) -> int:
    preflight.check_towns("soesmart up")
    settings = Settings()
    if args.port:
        settings = settings.model_copy(update={"http_port": args.port})
    if args.data_dir:
        settings = settings.model_copy(update={"data_dir": Path(args.data_dir)})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    public_url = os.environ.get("SOESMART_PUBLIC_URL") or f"http://{settings.http_host}:{settings.http_port}"
    # Towns file and every instance's database before anything starts (the secrets are
    # generated below when not given).
    preflight.check("soesmart up", instances(settings), secrets=False)

    if not broker_reachable(settings.broker_url):
        print("RabbitMQ is not reachable at", settings.broker_url, "- trying Docker ...")
        if not start_broker_container(settings.broker_url):
            print(
                "No RabbitMQ and no Docker engine. Start RabbitMQ (for example "
                "`rabbitmq-server -detached`) or set SOESMART_BROKER_URL.",
                file=sys.stderr,
            )
            return 2

    token = coordinator_token(settings)
    demo_staff = ensure_demo_staff(settings)
    env = {
        **os.environ,
        "SOESMART_DATA_DIR": str(settings.data_dir.resolve()),
        "SOESMART_HTTP_PORT": str(settings.http_port),
        "SOESMART_HTTP_HOST": settings.http_host,
        "SOESMART_PUBLIC_URL": public_url,
        "SOESMART_COORDINATOR_TOKEN": token,
        "SOESMART_SECRET_KEY": secret_key(settings),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SOESMART_TOWN", None)
    children = plan_children(settings, env, log_dir)

    stopping = False

    def _stop(signum, frame):  # type: ignore[no-untyped-def]
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    # Regional services first: their start-up declares every queue before any event flows.
    for child in children:
        child.start()
    try:
        wait_ready(public_url, args.ready_timeout, children)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        _terminate(children)
        return 1

    mail = settings.smtp_url or f"{(settings.data_dir / 'mail').resolve()}/*.eml"
    print(
        "\nsoesmart is running.\n"
        f"  Pages:               {public_url}/\n"
        + "".join(f"  {t.name + ':':<21}{public_url}/stadt/{t.slug}\n" for t in towns())
        + f"  Regional results:    {public_url}/api/v1/results\n"
        f"  API:                 {public_url}/api/v1/towns\n"
        f"  Mail:                {mail}\n"
        f"  Coordinator token:   {token}\n"
        + (f"  Staff sign-in:       {public_url}/verwaltung/anmelden (demo accounts)\n"
           + "".join(f"    {a.email:<40} {a.password}\n" for a in demo_staff)
           if demo_staff else "")
        + f"  Logs:                {log_dir.resolve()}/\n"
        "Stop with Ctrl+C.\n",
        flush=True,
    )
    while not stopping:
        time.sleep(0.5)
        for child in children:
            if stopping or child.proc is None or child.proc.poll() is None:
                continue
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < 60] + [now]
            print(f"{child.name} exited with {child.proc.returncode}; restarting "
                  f"(see {child.log_path})", file=sys.stderr, flush=True)
            if len(child.restarts) > 5:
                print(f"{child.name} keeps failing; giving up on it", file=sys.stderr)
                child.proc = None
                continue
            time.sleep(min(2 ** len(child.restarts), 10))
            child.start()
    _terminate(children)
    return 0


def _terminate(children: list[Child]) -> None:
    for child in reversed(children):
        if child.proc is not None and child.proc.poll() is None:
            child.proc.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        if child.proc is None:
            continue
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.proc.kill()
