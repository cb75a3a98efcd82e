"""nameko entrypoints of the notifications service."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.notifications.service_layer.handlers import NotificationError, NotificationsApp
from soesmart.contracts import ConfirmSubscription, Event, MeasureStatusChanged, Subscribe
from soesmart.messaging.nameko_ext import event_consumer, invalid, ok, refuse, rpc
from soesmart.messaging.topology import NOTIFICATIONS_QUEUE
from soesmart.runtime import AppProvider


class NotificationsService:
    name = "notifications"

    app: NotificationsApp = AppProvider(NotificationsApp)  # type: ignore[assignment]

    @event_consumer(NOTIFICATIONS_QUEUE)
    def on_event(self, event: Event) -> None:
        if isinstance(event, MeasureStatusChanged):
            self.app.on_measure_status_changed(event)

    @rpc
    def subscribe(self, command: dict[str, Any], measure_title: str) -> dict[str, Any]:
        try:
            cmd = Subscribe.model_validate(command)
        except ValidationError as exc:
            return invalid(exc)
        return ok(self.app.subscribe(cmd, measure_title).model_dump(mode="json"))

    @rpc
    def confirm(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            return ok(self.app.confirm(ConfirmSubscription.model_validate(command)))
        except ValidationError:
            return refuse("INVALID_LINK", "Dieser Bestätigungslink ist ungültig.")
        except NotificationError as exc:
            return refuse(exc.code, str(exc))

    @rpc
    def unsubscribe(self, token: str) -> dict[str, Any]:
        try:
            return ok(self.app.unsubscribe(token))
        except NotificationError as exc:
            return refuse(exc.code, str(exc))

    @rpc
    def ping(self) -> dict[str, Any]:
        return ok("pong")
