"""nameko entrypoints of the measures service: thin, they parse, call a handler, answer."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.measures.domain.model import CatalogueError
from services.measures.service_layer.handlers import MeasuresApp
from soesmart.contracts import ChangeMeasureStatus, Event, RatingRecorded
from soesmart.messaging.nameko_ext import event_consumer, invalid, ok, refuse, rpc
from soesmart.messaging.topology import MEASURES_QUEUE
from soesmart.runtime import AppProvider


class MeasuresService:
    name = "measures"

    app: MeasuresApp = AppProvider(MeasuresApp)  # type: ignore[assignment]

    @event_consumer(MEASURES_QUEUE)
    def on_event(self, event: Event) -> None:
        if isinstance(event, RatingRecorded):
            self.app.record_rating(event)

    @rpc
    def list_measures(self) -> dict[str, Any]:
        return ok([m.model_dump(mode="json") for m in self.app.list_measures()])

    @rpc
    def get_measure(self, code: str) -> dict[str, Any]:
        try:
            return ok(self.app.get_measure(code).model_dump(mode="json"))
        except CatalogueError as exc:
            return refuse(exc.code, str(exc))

    @rpc
    def change_status(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = ChangeMeasureStatus.model_validate(command)
            event = self.app.change_status(cmd)
        except ValidationError as exc:
            return invalid(exc)
        except CatalogueError as exc:
            return refuse(exc.code, str(exc))
        return ok(event.model_dump(mode="json"))

    @rpc
    def regional_results(self) -> dict[str, Any]:
        return ok(self.app.regional_results().model_dump(mode="json"))

    @rpc
    def ping(self) -> dict[str, Any]:
        return ok("pong")
