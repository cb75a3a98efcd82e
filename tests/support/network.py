"""The whole network (or part of it) as real processes, started the way `soesmart up` does."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import text

from launcher.up import Child, plan_children
from soesmart.config import Settings
from soesmart.messaging.topology import MEASURES_QUEUE
from soesmart.storage import make_engine
from soesmart.towns import towns
from tests.support.infra import create_vhost, delete_vhost, eventually, free_port, wait_drained


@dataclass
class Network:
    data_dir: Path
    broker_url: str
    vhost: str
    smtp_url: str | None = None
    database_url_template: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    token: str = "test-coordinator-token"
    children: dict[str, Child] = field(default_factory=dict)
    # A running aiosmtpd server (tests/support/smtp.py) when smtp_url points at one;
    # without it mails are read from the .eml files the notifications service writes.
    smtp: Any = None
    # How queues are counted: by default on the shared node; a cluster's own (cluster.py).
    queue_figures: Callable[[str, str], tuple[int, str]] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
        env.update(
            SOESMART_BROKER_URL=self.broker_url,
            SOESMART_DATA_DIR=str(self.data_dir),
            SOESMART_HTTP_PORT=str(self.port),
            SOESMART_PUBLIC_URL=self.url,
            SOESMART_COORDINATOR_TOKEN=self.token,
            SOESMART_SECRET_KEY="system-test-secret",
            SOESMART_RPC_TIMEOUT="3",
            SOESMART_MAIL_BATCH_SECONDS="1",  # the quiet period before immediate mails
            # The small demo (catalogue, one open consultation a town, staff accounts) is what
            # the tests build on; tests of the lived-in demo region turn it on.
            SOESMART_DEMO_REGION="false",
            # Test browsers fill forms at once; the minimum fill time is tested on its own
            # (tests/system/test_legal_pages_in_the_browser.py sets it).
            SOESMART_FORM_MIN_SECONDS="0",
            PYTHONUNBUFFERED="1",
        )
        if self.smtp_url:
            env["SOESMART_SMTP_URL"] = self.smtp_url
        if self.database_url_template:
            env["SOESMART_DATABASE_URL_TEMPLATE"] = self.database_url_template
        env.update(self.extra_env)
        return env

    def start(self, only: list[str] | None = None, wait: bool = True) -> Network:
        log_dir = self.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for child in plan_children(Settings(data_dir=self.data_dir), self.env(), log_dir):
            self.children[child.name] = child
        for name, child in self.children.items():
            if only is None or name in only:
                child.start()
        if wait:
            self.wait_ready(only)
        return self

    def wait_ready(self, only: list[str] | None = None, timeout: float | None = None) -> None:
        # On a machine shared with other test runs start-up can take longer than a minute.
        timeout = timeout or float(os.environ.get("SOESMART_TEST_READY_SECONDS", "60"))
        names = [n.replace("participation/", "participation_").replace("-", "_")
                 for n in (only or self.children) if n != "gateway"]

        def ready() -> bool:
            self.assert_alive()
            try:
                checks = requests.get(self.url + "/readyz", timeout=5).json()["checks"]
            except (requests.RequestException, ValueError, KeyError):
                return False
            return all(checks.get(n) == "ok" for n in names)

        eventually(ready, timeout=timeout, interval=0.3, message="network did not become ready")

    def assert_alive(self) -> None:
        for name, child in self.children.items():
            if child.proc is not None and child.proc.poll() is not None:
                log = child.log_path.read_text(errors="replace")[-3000:]
                raise AssertionError(f"{name} exited with {child.proc.returncode}:\n{log}")

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        child = self.children[name]
        assert child.proc is not None
        child.proc.send_signal(sig)
        child.proc.wait(timeout=20)
        child.proc = None

    def start_service(self, name: str) -> None:
        self.children[name].start()

    def stop(self) -> None:
        for child in self.children.values():
            if child.proc is not None and child.proc.poll() is None:
                child.proc.terminate()
        for child in self.children.values():
            if child.proc is not None:
                try:
                    child.proc.wait(timeout=15)
                except Exception:  # noqa: BLE001
                    child.proc.kill()

    # -- HTTP helpers ------------------------------------------------------------------
    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=10, **kwargs)

    def results_for(self, code: str) -> dict[str, Any] | None:
        response = self.get("/api/v1/results")
        if response.status_code != 200:
            return None  # e.g. 503 while the measures service restarts
        for m in response.json()["measures"]:
            if m["code"] == code:
                return m
        return None

    def database_url(self, service: str, town: str | None = None) -> str:
        """The database of one instance, as the started process finds it."""
        settings = Settings(data_dir=self.data_dir, town=town,
                            database_url=self.extra_env.get("SOESMART_DATABASE_URL"),
                            database_url_template=self.database_url_template)
        return settings.database_url_for(service)  # type: ignore[arg-type]

    def unpublished_events(self) -> int:
        """Events still in the outboxes of the running town instances."""
        waiting = 0
        for name, child in self.children.items():
            if not name.startswith("participation/") or child.proc is None:
                continue
            engine = make_engine(self.database_url("participation", name.split("/", 1)[1]))
            try:
                with engine.connect() as conn:
                    waiting += int(conn.execute(text(
                        "SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one())
            finally:
                engine.dispose()
        return waiting

    def settled_results(self, code: str, timeout: float = 60) -> dict[str, Any]:
        """The regional results of `code` once nothing is left to count.

        A first look that shows the expected figure proves little: a second copy of an
        event may still wait in a town's outbox or in the measures service's queue, and
        a results answer may be a cached one. So: every town instance's outbox is
        published, the measures queue is empty with nothing unacknowledged, and the
        figures were computed after that moment.
        """
        eventually(lambda: self.unpublished_events() == 0, timeout=timeout, interval=0.3,
                   message="the towns' outboxes are published")
        drained_at = wait_drained(self.vhost, MEASURES_QUEUE.name, timeout, self.queue_figures)

        def fresh() -> list[dict[str, Any]]:
            response = self.get("/api/v1/results")
            if response.status_code != 200:
                return []
            body = response.json()
            if datetime.fromisoformat(body["generated_at"]) <= drained_at:
                return []  # computed before the queue was drained (the cache)
            return [next((m for m in body["measures"] if m["code"] == code), {})]

        return eventually(fresh, timeout=timeout, interval=0.3,
                          message="results computed after the queue was drained")[0]

    # -- citizens ----------------------------------------------------------------------
    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        if self.smtp is not None:
            return list(self.smtp.to(address))
        found = []
        for path in sorted((self.data_dir / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() in str(message["To"]).lower():
                found.append(message)
        return found  # type: ignore[return-value]

    def link_token(self, address: str, path: str, timeout: float = 20) -> str:
        """The token of the newest link to `.../<path>?token=` mailed to `address`."""
        pattern = re.compile(re.escape(path) + r"\?token=([A-Za-z0-9_\-.]+)")

        def find() -> str | None:
            for message in reversed(self.mails_to(address)):
                body = message.get_body(preferencelist=("plain",))
                match = pattern.search(body.get_content() if body else "")
                if match:
                    return match.group(1)
            return None

        return str(eventually(find, timeout=timeout, message=f"a link {path} reaches {address}"))

    def citizen(self, town: str, address: str | None = None, name: str = "Testperson",
                **choices: Any) -> str:
        """Register and confirm a citizen of `town` as a person does; returns the bearer token."""
        address = address or f"buerger-{uuid.uuid4().hex[:10]}@example.org"
        body = {"email": address, "postcode": towns().get(town).postcodes[0],
                "display_name": name, **choices}
        response = self.post(f"/api/v1/towns/{town}/citizens", json=body)
        assert response.status_code == 202, response.text
        token = self.link_token(address, f"/stadt/{town}/bestaetigen")
        response = self.post(f"/api/v1/towns/{town}/citizens/confirm", json={"token": token})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def running_network(data_dir: Path, **options: Any) -> Iterator[Network]:
    """The whole network in a fresh vhost, started and ready; stopped and removed after."""
    vhost, url = create_vhost()
    net = Network(data_dir=data_dir, broker_url=url, vhost=vhost, **options)
    try:
        net.start()
        yield net
    finally:
        net.stop()
        delete_vhost(vhost)
