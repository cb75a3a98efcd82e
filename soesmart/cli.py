"""The `soesmart` command: start the whole network, one service, or look after it.

    soesmart up                 all services, the five towns, demo data, pages on localhost
    soesmart run-service KIND   one service process (what compose and `up` start)
    soesmart towns              the configured towns
    soesmart dead-letters       what landed in the dead-letter queue, and why
    soesmart rebuild-results    rebuild the combined results from the towns' own ratings
    soesmart republish-catalogue  publish every measure again (after adding a town)
    soesmart staff create|list|disable  staff accounts (town admins, coordinators)
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from soesmart.config import Settings
from soesmart.registry import ENTRY_MODULE
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
    settings = Settings()
    if args.port:
        settings = settings.model_copy(update={"http_port": args.port})
    if args.data_dir:
        settings = settings.model_copy(update={"data_dir": Path(args.data_dir)})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    public_url = os.environ.get("SOESMART_PUBLIC_URL") or f"http://{settings.http_host}:{settings.http_port}"

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


def cmd_run_service(args: argparse.Namespace) -> int:
    cmd = [sys.executable, "-m", ENTRY_MODULE, args.kind]
    if args.town:
        cmd += ["--town", args.town]
    os.execv(sys.executable, cmd)
    return 0  # not reached


def cmd_towns(args: argparse.Namespace) -> int:
    for t in towns():
        print(f"{t.slug:<16} {t.name:<22} {t.service_name:<30} {', '.join(t.postcodes)}")
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    """Show (and with --requeue, send back) what is in the dead-letter queue."""
    from kombu import Connection, Exchange

    from soesmart.messaging.topology import DEAD_LETTER_QUEUE, EVENTS_EXCHANGE

    settings = Settings()
    shown = 0
    with Connection(settings.broker_url) as conn:
        queue = DEAD_LETTER_QUEUE(conn.default_channel)
        queue.declare()
        # Only what is there now: with --requeue, a message sent back may fail again and
        # return to this queue while we read, and must not be taken a second time.
        _, waiting, _ = queue.queue_declare(passive=True)
        producer = conn.Producer()
        while shown < min(args.limit, waiting):
            message = queue.get(no_ack=False)
            if message is None:
                break
            headers = message.headers or {}
            print(json.dumps({
                "error": headers.get("x-error"), "failed_by": headers.get("x-failed-by"),
                "failed_at": headers.get("x-failed-at"),
                "routing_key": headers.get("x-original-routing-key"),
                "body": message.body.decode("utf-8", "replace")[:500]
                if isinstance(message.body, bytes) else str(message.body)[:500],
            }, ensure_ascii=False))
            if args.requeue:
                producer.publish(
                    message.body, exchange=Exchange(EVENTS_EXCHANGE.name, type="topic"),
                    routing_key=headers.get("x-original-routing-key", ""),
                    content_type=message.content_type, content_encoding=message.content_encoding,
                    delivery_mode=2,
                )
                message.ack()
            # Without --requeue the message stays unacked and goes back to the
            # queue when this connection closes.
            shown += 1
    print(f"{shown} dead letter(s){' sent back' if args.requeue else ''}.", file=sys.stderr)
    return 0


@contextmanager
def rpc_caller(settings: Settings, timeout: float = 30.0) -> Iterator[Callable[..., object]]:
    """`call(service, method, **kwargs)` from a command line, over the broker."""
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from nameko.standalone.rpc import ClusterRpcProxy

    from soesmart.contracts import RpcReply

    config = {"AMQP_URI": settings.broker_url, "serializer": "json"}
    with ClusterRpcProxy(config, timeout=max(settings.rpc_timeout, timeout)) as cluster:

        def call(service: str, method: str, **kwargs: object) -> object:
            reply = RpcReply.model_validate(getattr(getattr(cluster, service), method)(**kwargs))
            if not reply.ok:
                raise SystemExit(f"{service}.{method} refused: {reply.error}")
            return reply.data

        yield call


def cmd_republish_catalogue(args: argparse.Namespace) -> int:
    """Publish every measure again, e.g. so that a newly added town gets its replica."""
    with rpc_caller(Settings()) as call:
        count = call("measures", "republish_catalogue")
    print(f"Published {count} measures again.")
    return 0


def cmd_rebuild_results(args: argparse.Namespace) -> int:
    """Rebuild the combined results projection from every town's stored ratings.

    Runs beside the measures service, on its database (SOESMART_DATABASE_URL or the
    default SQLite file), and pages through each town's `export_ratings` over RPC.
    Every town must answer before anything is dropped: a rebuild never leaves a
    town out. Live rating events keep flowing meanwhile; the projection keeps the
    highest version per rating, so they and the replay agree whatever the order.
    """
    from services.measures.service_layer.handlers import MeasuresApp
    from soesmart.contracts import RatingsPage

    settings = Settings().model_copy(update={"demo": False})
    selected = [towns().get(slug) for slug in args.town] if args.town else list(towns())
    app = MeasuresApp(settings)
    totals: dict[str, int] = {}
    started = time.monotonic()
    with rpc_caller(settings) as call:
        for town in selected:
            try:
                call(town.service_name, "ping")
            except Exception as exc:  # noqa: BLE001 - any failure: do not drop anything
                print(f"{town.name} ({town.service_name}) does not answer ({exc!r}); "
                      "nothing was changed.", file=sys.stderr)
                return 1
        if args.town:
            for town in selected:
                app.reset_projection(town.slug)
        else:
            app.reset_projection()  # also drops towns that have left the network
        for town in selected:
            after: str | None = None
            count = 0
            while True:
                page = RatingsPage.model_validate(
                    call(town.service_name, "export_ratings", after_id=after, limit=args.page_size)
                )
                app.replay_ratings(town.slug, page.items)
                count += len(page.items)
                if page.next_after is None:
                    break
                after = page.next_after
            totals[town.slug] = count
            print(f"{town.name}: {count} ratings replayed", flush=True)
    print(f"Rebuilt the combined results from {sum(totals.values())} ratings of "
          f"{len(totals)} town(s) in {time.monotonic() - started:.1f} s.")
    return 0


def ensure_demo_staff(settings: Settings) -> list:
    """In a demo network: the demo staff accounts (created if missing), to print them."""
    if not settings.demo:
        return []
    from services.gateway.service_layer.staff import StaffAccounts

    return StaffAccounts(settings).ensure_demo_accounts(towns())


def _staff_password() -> str:
    password = os.environ.get("SOESMART_STAFF_PASSWORD")
    if password is not None:
        return password
    import getpass

    password = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Repeat the password: ") != password:
        raise SystemExit("the passwords differ; nothing was created")
    return password


def cmd_staff(args: argparse.Namespace) -> int:
    """Staff accounts in the gateway's database (SOESMART_DATABASE_URL_TEMPLATE or var/gateway.db)."""
    from services.gateway.domain.staff import AccountExists, StaffRuleViolated
    from services.gateway.service_layer.staff import StaffAccounts

    settings = Settings()
    if args.action == "create":
        if args.town and args.town not in towns().slugs:
            print(f"refused: unknown town {args.town!r}; known: {', '.join(towns().slugs)}",
                  file=sys.stderr)
            return 2
        try:
            account = StaffAccounts(settings).create(args.email, args.name, args.role, args.town,
                                                     _staff_password())
        except StaffRuleViolated as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 2
        except AccountExists:
            print(f"refused: an account with {args.email} exists already", file=sys.stderr)
            return 2
        print(f"Created {account.role.value} {account.email}"
              + (f" for {account.town}" if account.town else "") + ".")
        return 0
    store = StaffAccounts(settings)
    if args.action == "disable":
        disabled = store.disable(args.email)
        if disabled is None:
            print(f"no account with {args.email}", file=sys.stderr)
            return 1
        print(f"Disabled {disabled.email}; its sessions and tokens ended.")
        return 0
    for a in store.accounts():
        print(f"{a.email:<40} {a.role.value:<12} {a.town or '-':<16} "
              f"{'active' if a.active else 'disabled':<9} {a.display_name}"
              + (" (demo)" if a.demo else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soesmart", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole network on this machine")
    up.add_argument("--port", type=int, help="HTTP port of the gateway (default 8000)")
    up.add_argument("--data-dir", help="where databases, mails and logs go (default ./var)")
    up.add_argument("--ready-timeout", type=float, default=90.0)
    up.set_defaults(func=cmd_up)
    run = sub.add_parser("run-service", help="run one service process")
    run.add_argument("kind", choices=["measures", "notifications", "participation", "gateway"])
    run.add_argument("--town")
    run.set_defaults(func=cmd_run_service)
    sub.add_parser("towns", help="list the configured towns").set_defaults(func=cmd_towns)
    sub.add_parser(
        "republish-catalogue", help="publish every measure again (after adding a town)"
    ).set_defaults(func=cmd_republish_catalogue)
    dl = sub.add_parser("dead-letters", help="show the dead-letter queue")
    dl.add_argument("--limit", type=int, default=50)
    dl.add_argument("--requeue", action="store_true", help="publish them again to their route")
    dl.set_defaults(func=cmd_dead_letters)
    rb = sub.add_parser("rebuild-results",
                        help="rebuild the combined results from the towns' own ratings")
    rb.add_argument("--town", action="append",
                    help="only this town (e.g. one that just joined); may be repeated")
    rb.add_argument("--page-size", type=int, default=2000)
    rb.set_defaults(func=cmd_rebuild_results)
    staff = sub.add_parser("staff", help="staff accounts: create, list, disable")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    create = staff_sub.add_parser(
        "create", help="create an account; the password comes from SOESMART_STAFF_PASSWORD "
        "or is asked for")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name, e.g. 'Anna Schmidt (Menden)'")
    create.add_argument("--role", required=True, choices=["town_admin", "coordinator"])
    create.add_argument("--town", help="the town of a town admin (slug, e.g. menden)")
    staff_sub.add_parser("list", help="all accounts")
    disable = staff_sub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("--email", required=True)
    staff.set_defaults(func=cmd_staff)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
