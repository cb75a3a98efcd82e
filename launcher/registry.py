"""The one table of what can run: service kind -> nameko service class.

The runner, `soesmart up` and the compose file all start services through it
(a test checks that deploy/compose.yaml names only these entries).
"""

from __future__ import annotations

from soesmart.config import Settings

SERVICE_KINDS = ("measures", "notifications", "participation", "gateway")
ENTRY_MODULE = "launcher.service_main"


def build_service(kind: str, settings: Settings) -> type:
    """The service class of `kind`, once its configuration is known to be usable
    (towns file, secrets, its database: `launcher.preflight`, else StartRefused)."""
    from launcher.preflight import check

    check(f"{kind}{'/' + settings.town if settings.town else ''}", [(kind, settings)])  # type: ignore[list-item]
    if kind == "measures":
        from services.measures.entrypoints.service import MeasuresService

        return MeasuresService
    if kind == "notifications":
        from services.notifications.entrypoints.service import NotificationsService

        return NotificationsService
    if kind == "participation":
        from services.participation.entrypoints.service import participation_service_for
        from soesmart.towns import towns

        return participation_service_for(towns().get(settings.town or ""))
    if kind == "gateway":
        from services.gateway.entrypoints.service import GatewayService

        return GatewayService
    raise ValueError(f"unknown service kind {kind!r}")
