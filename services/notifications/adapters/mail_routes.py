"""Which server takes the mail for a receiving domain, and the connections open to each server.

By default every mail goes to one server (`SOESMART_SMTP_URL`, usually the relay of
the operator; unset: .eml files); `SOESMART_MAIL_ROUTES` names domains whose mail goes
to a server of its own. Each server gets up to `connections` connections side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from services.notifications.adapters.mail import MailTransport, transport_from_settings

DEFAULT = ""  # the route of every domain without one of its own


class MailRoutes:
    def __init__(self, make: Callable[[str], MailTransport], routes: Mapping[str, str],
                 connections: int) -> None:
        self._make = make  # a new transport for a route (DEFAULT or a server URL)
        self.routes = {domain.lower(): url for domain, url in routes.items()}
        self.connections = connections
        self._open: dict[tuple[str, int], MailTransport] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, smtp_url: str | None, mail_dir: Path, routes: Mapping[str, str],
                      connections: int) -> MailRoutes:
        def make(route: str) -> MailTransport:
            return transport_from_settings(route or smtp_url, mail_dir)

        return cls(make, routes, connections)

    @classmethod
    def only(cls, transport: MailTransport) -> MailRoutes:
        """Every mail through this one transport (tests, benchmarks)."""
        return cls(lambda _route: transport, {}, 1)

    def route_of(self, domain: str) -> str:
        return self.routes.get(domain, DEFAULT)

    def transport(self, route: str, lane: int) -> MailTransport:
        with self._lock:
            if (route, lane) not in self._open:
                self._open[route, lane] = self._make(route)
            return self._open[route, lane]

    def close(self) -> None:
        with self._lock:
            opened, self._open = list(self._open.values()), {}
        for transport in opened:
            transport.close()
