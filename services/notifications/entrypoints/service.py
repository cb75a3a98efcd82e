"""nameko entrypoints of the notifications service: thin, they parse, call a use case, answer."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.notifications.domain.errors import NotificationError
from services.notifications.service_layer import (
    delivery,
    fan_out,
    feedback,
    personal_data,
    personal_mails,
    subscriptions,
)
from services.notifications.service_layer.handlers import NotificationsApp
from soesmart.contracts import (
    AccessibilityFeedback,
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
        uow, ctx = self.app.uow(), self.app.context
        if isinstance(event, MeasureStatusChanged):
            fan_out.on_measure_status_changed(event, uow, ctx)
        elif isinstance(event, CitizenLinkRequested):
            personal_mails.on_citizen_link_requested(event, uow, ctx)
        elif isinstance(event, ConsultationMilestone):
            fan_out.on_consultation_milestone(event, uow, ctx)
        elif isinstance(event, CommentReplied):
            personal_mails.on_comment_replied(event, uow, ctx)
        elif isinstance(event, IdeaAccepted | IdeaDeclined):
            personal_mails.on_idea_decided(event, uow, ctx)
        elif isinstance(event, CitizenFollowsMeasure):
            subscriptions.on_citizen_follows_measure(event, uow, ctx)
        elif isinstance(event, CitizenErased):
            personal_data.on_citizen_erased(event, uow, ctx)

    @rpc
    def subscribe(self, command: dict[str, Any], measure_title: str = "",
                  scope_title: str = "") -> dict[str, Any]:
        # `measure_title` is what gateways before scoped subscriptions send.
        try:
            cmd = Subscribe.model_validate(command)
        except ValidationError as exc:
            return invalid(exc)
        try:
            accepted = subscriptions.subscribe(cmd, self.app.uow(), self.app.context,
                                               measure_title=measure_title,
                                               scope_title=scope_title)
        except NotificationError as exc:
            return _refused(exc)
        return ok(accepted.model_dump(mode="json"))

    @rpc
    def confirm(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = ConfirmSubscription.model_validate(command)
            return ok(subscriptions.confirm(cmd, self.app.uow(), self.app.context))
        except ValidationError:
            return refuse("INVALID_LINK", "Dieser Bestätigungslink ist ungültig.")
        except NotificationError as exc:
            return _refused(exc)

    @rpc
    def unsubscribe(self, token: str) -> dict[str, Any]:
        try:
            return ok(subscriptions.unsubscribe(token, self.app.uow(), self.app.context))
        except NotificationError as exc:
            return _refused(exc)

    @rpc
    def preferences(self, token: str) -> dict[str, Any]:
        try:
            found = subscriptions.preferences(token, self.app.uow(), self.app.context)
        except NotificationError as exc:
            return _refused(exc)
        return ok(found.model_dump(mode="json"))

    @rpc
    def update_preferences(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = UpdatePreferences.model_validate(command)
        except ValidationError as exc:
            return invalid(exc)
        try:
            changed = subscriptions.update_preferences(cmd, self.app.uow(), self.app.context)
        except NotificationError as exc:
            return _refused(exc)
        return ok(changed.model_dump(mode="json"))

    @rpc
    def send_accessibility_feedback(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = AccessibilityFeedback.model_validate(command)
        except ValidationError as exc:
            return invalid(exc)
        sent = feedback.send_accessibility_feedback(cmd, self.app.uow(), self.app.context)
        return ok(sent.model_dump(mode="json"))

    @rpc
    def personal_data(self, email: str) -> dict[str, Any]:
        return ok(personal_data.personal_data(email, self.app.uow()))

    @rpc
    def erase_address(self, email: str) -> dict[str, Any]:
        return ok(personal_data.erase_address(email, self.app.uow(), self.app.context))

    @rpc
    def delivery_log(self, limit: int = 100) -> dict[str, Any]:
        found = delivery.delivery_log(self.app.uow(), max(1, min(int(limit), 1000)))
        return ok(found.model_dump(mode="json"))

    @rpc
    def ping(self) -> dict[str, Any]:
        return ok("pong")
