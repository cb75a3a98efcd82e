"""nameko entrypoints of a town's participation instance (one service name per town)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.participation.domain.model import ParticipationError
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.contracts import Event, RateMeasure
from soesmart.messaging.nameko_ext import event_consumer, invalid, ok, refuse, rpc
from soesmart.messaging.topology import participation_queue
from soesmart.runtime import AppProvider
from soesmart.towns import Town


class ParticipationService:
    """Entrypoints shared by every town; `participation_service_for` gives each its name."""

    name = "participation"
    app: ParticipationApp = AppProvider(ParticipationApp)  # type: ignore[assignment]

    @rpc
    def open_consultations(self) -> dict[str, Any]:
        return ok([c.model_dump(mode="json") for c in self.app.open_consultations()])

    @rpc
    def get_consultation(self, consultation_id: str) -> dict[str, Any]:
        try:
            return ok(self.app.consultation(consultation_id).model_dump(mode="json"))
        except ParticipationError as exc:
            return refuse(exc.code, str(exc), exc.details)

    @rpc
    def rate(self, command: dict[str, Any], consultation_id: str | None = None) -> dict[str, Any]:
        try:
            cmd = RateMeasure.model_validate(command)
            accepted = self.app.rate(cmd, consultation_id)
        except ValidationError as exc:
            return invalid(exc)
        except ParticipationError as exc:
            return refuse(exc.code, str(exc), exc.details)
        return ok(accepted.model_dump(mode="json"))

    @rpc
    def export_ratings(self, after_id: str | None = None, limit: int = 1000) -> dict[str, Any]:
        """A page of this town's stored ratings, for rebuilding the combined results."""
        if not isinstance(limit, int) or not 1 <= limit <= 10000:
            return refuse("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                          [{"field": "limit", "problem": "must be a whole number from 1 to 10000"}])
        return ok(self.app.export_ratings(after_id, limit).model_dump(mode="json"))

    @rpc
    def ping(self) -> dict[str, Any]:
        return ok("pong")


def participation_service_for(town: Town) -> type:
    """A service class for one town: its own nameko name and its own event queue."""

    def on_event(self: ParticipationService, event: Event) -> None:
        self.app.apply_measure_event(event)

    return type(
        f"ParticipationService_{town.service_name}",
        (ParticipationService,),
        {
            "name": town.service_name,
            "on_event": event_consumer(participation_queue(town))(on_event),
            # each class needs its own provider instance
            "app": AppProvider(ParticipationApp),
        },
    )
