"""nameko entrypoints of the notifications service."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.notifications.service_layer.handlers import NotificationError, NotificationsApp
from soesmart.contracts import (
    CitizenErased,
    CitizenFollowsMeasure,
    CitizenLinkRequested,
    CommentReplied,
    ConfirmSubscription,
    ConsultationMilestone,
    Event,
    IdeaAccepted,
    IdeaDeclined,
    MeasureStatusChanged,
    Subscribe,
    UpdatePreferences,
)
from soesmart.messaging.nameko_ext import event_consumer, invalid, ok, refuse, rpc
from soesmart.messaging.topology import NOTIFICATIONS_QUEUE
from soesmart.runtime import AppProvider


def _refused(exc: NotificationError) -> dict[str, Any]:
    return refuse(exc.code, str(exc), list(exc.details))


class NotificationsService:
    name = "notifications"

    app: NotificationsApp = AppProvider(NotificationsApp)  # type: ignore[assignment]

    @event_consumer(NOTIFICATIONS_QUEUE)
    def on_event(self, event: Event) -> None:
        if isinstance(event, MeasureStatusChanged):
            self.app.on_measure_status_changed(event)
        elif isinstance(event, CitizenLinkRequested):
            self.app.on_citizen_link_requested(event)
        elif isinstance(event, ConsultationMilestone):
            self.app.on_consultation_milestone(event)
        elif isinstance(event, CommentReplied):
            self.app.on_comment_replied(event)
        elif isinstance(event, IdeaAccepted | IdeaDeclined):
            self.app.on_idea_decided(event)
        elif isinstance(event, CitizenFollowsMeasure):
            self.app.on_citizen_follows_measure(event)
        elif isinstance(event, CitizenErased):
            self.app.on_citizen_erased(event)

    @rpc
    def subscribe(self, command: dict[str, Any], measure_title: str = "",
                  scope_title: str = "") -> dict[str, Any]:
        # `measure_title` is what gateways before scoped subscriptions send.
        try:
            cmd = Subscribe.model_validate(command)
        except ValidationError as exc:
            return invalid(exc)
        try:
            accepted = self.app.subscribe(cmd, measure_title=measure_title,
                                          scope_title=scope_title)
        except NotificationError as exc:
            return _refused(exc)
        return ok(accepted.model_dump(mode="json"))

    @rpc
    def confirm(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            return ok(self.app.confirm(ConfirmSubscription.model_validate(command)))
        except ValidationError:
            return refuse("INVALID_LINK", "Dieser Bestätigungslink ist ungültig.")
        except NotificationError as exc:
            return _refused(exc)

    @rpc
    def unsubscribe(self, token: str) -> dict[str, Any]:
        try:
            return ok(self.app.unsubscribe(token))
        except NotificationError as exc:
            return _refused(exc)

    @rpc
    def preferences(self, token: str) -> dict[str, Any]:
        try:
            return ok(self.app.preferences(token).model_dump(mode="json"))
        except NotificationError as exc:
            return _refused(exc)

    @rpc
    def update_preferences(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = UpdatePreferences.model_validate(command)
        except ValidationError as exc:
            return invalid(exc)
        try:
            return ok(self.app.update_preferences(cmd).model_dump(mode="json"))
        except NotificationError as exc:
            return _refused(exc)

    @rpc
    def delivery_log(self, limit: int = 100) -> dict[str, Any]:
        return ok(self.app.delivery_log(max(1, min(int(limit), 1000))).model_dump(mode="json"))

    @rpc
    def ping(self) -> dict[str, Any]:
        return ok("pong")
