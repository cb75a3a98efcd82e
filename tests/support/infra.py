"""Real infrastructure for tests: a fresh RabbitMQ vhost, a fresh database, a polling helper."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import quote

import requests

T = TypeVar("T")

BROKER_HOST = os.environ.get("SOESMART_TEST_BROKER_HOST", "127.0.0.1")
MANAGEMENT_URL = os.environ.get("SOESMART_TEST_MANAGEMENT_URL", f"http://{BROKER_HOST}:15672")
MANAGEMENT_REFRESH_SECONDS = 5.5  # RabbitMQ's collect_statistics_interval (5 s) and a margin
# A quorum queue reports its figures to rabbitmqctl once a tick (quorum_tick_interval, 5 s):
# a 0 may be older than the last message, so "drained" is read twice, a tick apart.
QUORUM_TICK_SECONDS = 5.5
POSTGRES_URL = os.environ.get(
    "SOESMART_TEST_POSTGRES_URL", "postgresql+pg8000://postgres@127.0.0.1:5432/postgres"
)


def find_rabbitmqctl() -> str | None:
    """rabbitmqctl on PATH or where Debian puts it (/usr/sbin, not on a user's PATH)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/lib/rabbitmq/bin"])
    return shutil.which("rabbitmqctl", path=search)


def eventually(check: Callable[[], T], timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition not met") -> T:
    """Poll `check` until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, OSError) as exc:  # OSError: also requests' connection errors
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} within {timeout}s" + (f": {last_error}" if last_error else ""))
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _management(method: str, path: str) -> requests.Response:
    return requests.request(method, MANAGEMENT_URL + path, auth=("guest", "guest"), timeout=10,
                            json={} if method == "PUT" else None)


def create_vhost() -> tuple[str, str]:
    """A vhost of our own: tests never see each other's queues. Returns (name, broker URL)."""
    name = f"soesmart-test-{uuid.uuid4().hex[:10]}"
    try:
        _management("PUT", f"/api/vhosts/{quote(name, safe='')}").raise_for_status()
        requests.put(
            f"{MANAGEMENT_URL}/api/permissions/{quote(name, safe='')}/guest",
            json={"configure": ".*", "write": ".*", "read": ".*"}, auth=("guest", "guest"),
            timeout=10,
        ).raise_for_status()
    except requests.RequestException:
        ctl = find_rabbitmqctl()
        if not ctl:
            raise
        subprocess.run([ctl, "add_vhost", name], check=True, capture_output=True)
        subprocess.run([ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True)
    return name, f"amqp://guest:guest@{BROKER_HOST}:5672/{quote(name, safe='')}"


def delete_vhost(name: str) -> None:
    try:
        _management("DELETE", f"/api/vhosts/{quote(name, safe='')}")
    except requests.RequestException:
        ctl = find_rabbitmqctl()
        if ctl:
            subprocess.run([ctl, "delete_vhost", name], capture_output=True)


def queue_depth(vhost: str, queue: str) -> int:
    """Messages ready in a queue, now (a passive declare); not those a consumer holds."""
    from kombu import Connection

    with Connection(f"amqp://guest:guest@{BROKER_HOST}:5672/{quote(vhost, safe='')}") as conn:
        channel = conn.channel()
        try:
            _, count, _ = channel.queue_declare(queue, passive=True)
            return int(count)
        finally:
            channel.close()


def list_queue(ctl_command: list[str], vhost: str, queue: str) -> tuple[int, str]:
    """(ready + unacknowledged, type) of a queue, as `ctl_command` (rabbitmqctl of some node)
    lists it."""
    out = subprocess.run([*ctl_command, "-q", "list_queues", "-p", vhost, "--no-table-headers",
                          "name", "messages_ready", "messages_unacknowledged", "type"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == queue:
            return int(parts[1]) + int(parts[2]), parts[3]
    raise AssertionError(f"no queue {queue} in vhost {vhost}")


def queue_figures(vhost: str, queue: str) -> tuple[int, str]:
    """Messages of a queue ready or held unacknowledged by a consumer, and its type, as the
    default broker counts them now. A consumer acknowledges an event after its handler has
    committed (a retry keeps it unacknowledged), so 0 means: nothing of this queue is left
    to do (for a quorum queue: as of its last tick)."""
    ctl = find_rabbitmqctl()
    if ctl is not None:  # asks the queue itself; the management API's figures lag ~5 s
        return list_queue([ctl], vhost, queue)
    response = _management("GET", f"/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}")
    response.raise_for_status()
    figures = response.json()
    return (int(figures.get("messages_ready", 0)) + int(figures.get("messages_unacknowledged", 0)),
            str(figures.get("type", "classic")))


def queue_messages(vhost: str, queue: str) -> int:
    return queue_figures(vhost, queue)[0]


def ready_messages_now(broker_url: str, queue: str) -> int:
    """The messages of `queue` ready for delivery, as its leader counts them at this moment.

    A passive declare over AMQP: unlike `queue_messages` (rabbitmqctl), whose figures of a
    quorum queue may be seconds old, this is never stale; it does not count messages that
    a consumer holds unacknowledged.
    """
    from kombu import Connection

    with Connection(broker_url, connect_timeout=10) as conn:
        _name, count, _consumers = conn.default_channel.queue_declare(queue=queue, passive=True)
        return int(count)


def wait_drained(vhost: str, queue: str, timeout: float = 60,
                 figures: Callable[[str, str], tuple[int, str]] | None = None) -> datetime:
    """Wait until nothing of `queue` is ready or in work; returns a moment after that (UTC).

    Figures that may be a few seconds old (a quorum queue's, or the management API's
    when there is no rabbitmqctl) must read 0 on two looks one refresh apart. `figures`
    asks another broker than the default node (tests/support/cluster.py).
    """
    look = figures or queue_figures

    def drained() -> str | None:
        count, kind = look(vhost, queue)
        return kind if count == 0 else None

    kind = eventually(drained, timeout=timeout, interval=0.3, message=f"queue {queue} is drained")
    if kind == "quorum" or (figures is None and find_rabbitmqctl() is None):
        time.sleep(max(QUORUM_TICK_SECONDS, MANAGEMENT_REFRESH_SECONDS))
        eventually(drained, timeout=timeout, interval=0.3, message=f"queue {queue} is drained")
    return datetime.now(UTC)


def create_postgres_database() -> tuple[str, str]:
    """An empty PostgreSQL database; returns (name, URL)."""
    import pg8000.native
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_URL)
    name = f"soesmart_test_{uuid.uuid4().hex[:10]}"
    conn = pg8000.native.Connection(user=admin.username or "postgres", host=admin.host or "127.0.0.1",
                                    port=admin.port or 5432, database=admin.database or "postgres",
                                    password=admin.password)
    conn.run(f'CREATE DATABASE "{name}"')
    conn.close()
    return name, admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    import pg8000.native
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_URL)
    conn = pg8000.native.Connection(user=admin.username or "postgres", host=admin.host or "127.0.0.1",
                                    port=admin.port or 5432, database=admin.database or "postgres",
                                    password=admin.password)
    conn.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _admin_connection():  # type: ignore[no-untyped-def]
    import pg8000.native
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_URL)
    return pg8000.native.Connection(user=admin.username or "postgres", host=admin.host or "127.0.0.1",
                                    port=admin.port or 5432, database=admin.database or "postgres",
                                    password=admin.password)


def create_instance_databases(instances: list[str]) -> tuple[str, str]:
    """One empty PostgreSQL database per instance; returns (prefix, SOESMART_DATABASE_URL_TEMPLATE)."""
    from sqlalchemy.engine import make_url

    prefix = f"soesmart_test_{uuid.uuid4().hex[:8]}"
    conn = _admin_connection()
    for instance in instances:
        conn.run(f'CREATE DATABASE "{prefix}_{instance}"')
    conn.close()
    template = make_url(POSTGRES_URL).set(database=f"{prefix}_{{instance}}").render_as_string(
        hide_password=False)
    return prefix, template


def drop_instance_databases(prefix: str, instances: list[str], recreate: bool = False) -> None:
    """Drop (and with `recreate`, create again empty) the databases of `instances`."""
    conn = _admin_connection()
    for instance in instances:
        conn.run(f'DROP DATABASE IF EXISTS "{prefix}_{instance}" WITH (FORCE)')
        if recreate:
            conn.run(f'CREATE DATABASE "{prefix}_{instance}"')
    conn.close()
