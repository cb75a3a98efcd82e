"""What every service process shares: its application object and background loops."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nameko.extensions import DependencyProvider

from soesmart.config import Settings

log = logging.getLogger(__name__)

SETTINGS_KEY = "SOESMART_SETTINGS"


class AppProvider(DependencyProvider):
    """Builds the application once per container and runs its loops (outbox relay, sender).

    The factory returns an object with `background_loops() -> list[callable]` and
    `stop()`: a service's wired use cases plus the loops that run beside them.

    Handlers get the application itself; it is safe to share because each
    handler call opens its own transaction.
    """

    def __init__(self, factory: Callable[[Settings], Any]) -> None:
        self.factory = factory
        self.app: Any = None

    def setup(self) -> None:
        settings = self.container.config[SETTINGS_KEY]
        self.app = self.factory(settings)

    def start(self) -> None:
        for loop in self.app.background_loops():
            self.container.spawn_managed_thread(loop, identifier=getattr(loop, "__name__", "loop"))

    def stop(self) -> None:
        if self.app is not None:
            self.app.stop()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.app


def nameko_config(settings: Settings) -> dict[str, Any]:
    return {
        "AMQP_URI": settings.broker_url,
        "SOESMART_QUEUE_TYPE": settings.queue_type,
        SETTINGS_KEY: settings,
        "SOESMART_RPC_TIMEOUT": settings.rpc_timeout,
        "WEB_SERVER_ADDRESS": f"{settings.http_host}:{settings.http_port}",
        "max_workers": 20,
        "parent_calls_tracked": 2,
        "serializer": "json",
    }
