"""The gateway: the only door from outside. Stateless; several can run side by side.

GatewayService is the one route table: it is made of the routes of each audience
(public, citizens, town admins, coordinators, staff accounts), each declared once
with its OpenAPI metadata. Routes are thin: each builds a Backend over the timed RPC
client and hands the request to its audience's `api` (JSON) or `pages` (HTML).
Every error leaves through one place (`web.routing`).
"""

from __future__ import annotations

import logging

from services.gateway.citizen.routes import CitizenRoutes
from services.gateway.coordinator.routes import CoordinatorRoutes
from services.gateway.legal.routes import LegalRoutes
from services.gateway.public.routes import PublicRoutes
from services.gateway.service_layer.staff import staff_accounts_for
from services.gateway.staff.routes import StaffRoutes
from services.gateway.town_admin.paper_routes import PaperRoutes
from services.gateway.town_admin.routes import TownAdminRoutes
from services.gateway.web.backend import Backend
from soesmart.config import Settings
from soesmart.messaging.rpc_client import TimedRpc
from soesmart.runtime import AppProvider
from soesmart.towns import towns

log = logging.getLogger(__name__)


class GatewayApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Staff accounts live in the gateway's database, shared by every gateway process.
        self.staff = staff_accounts_for(settings)
        if settings.demo:
            self.staff.ensure_demo_accounts(towns())
        else:
            self.staff.disable_demo_accounts()

    def background_loops(self) -> list:
        return []

    def stop(self) -> None:
        pass


class GatewayService(PublicRoutes, CitizenRoutes, TownAdminRoutes, PaperRoutes, CoordinatorRoutes,
                     StaffRoutes, LegalRoutes):
    name = "gateway"

    app: GatewayApp = AppProvider(GatewayApp)  # type: ignore[assignment]
    rpc = TimedRpc()

    @property
    def backend(self) -> Backend:
        return Backend(self.rpc)
