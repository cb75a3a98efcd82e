"""The notifications service wired to its database, mail transports and clock.

The path of a piece of news: an event is fanned out into one `notification_items`
row per address and cause (`fan_out`, one transaction with the processed-event
record); `digests.bundle_due` turns the items that are due into one mail per
address (one transaction: the delivery row in, the items out); `delivery.send_due`
hands deliveries to the transport and records the outcome. A crash anywhere
repeats a step, never doubles its effect. Consent lives in `subscriptions`, mails
to one person about their own doing in `personal_mails`.

`NotificationsApp` opens the use cases for callers in this process (tests,
benchmarks) and runs the sender loop; the nameko entrypoints call the use cases
directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.notifications.adapters.clock import Clock, SystemClock
from services.notifications.adapters.dkim_signer import DkimSigner
from services.notifications.adapters.mail import MailTransport
from services.notifications.adapters.mail_routes import MailRoutes
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain.errors import InvalidLink, InvalidScope, NotificationError
from services.notifications.domain.retry import DomainBackoff, RetryPolicy
from services.notifications.service_layer import (
    delivery,
    digests,
    fan_out,
    personal_data,
    personal_mails,
    retention,
    subscriptions,
)
from services.notifications.service_layer.context import Context, Links
from services.notifications.service_layer.sent_marks import SentMarks
from soesmart.config import Settings
from soesmart.contracts import (
    CitizenErased,
    CitizenFollowsMeasure,
    CitizenLinkRequested,
    CommentReplied,
    ConfirmSubscription,
    ConsultationMilestone,
    DeliveryLog,
    IdeaAccepted,
    IdeaDeclined,
    MeasureStatusChanged,
    Preferences,
    Subscribe,
    SubscriptionAccepted,
    UpdatePreferences,
)
from soesmart.storage import make_engine, migrate

__all__ = ["InvalidLink", "InvalidScope", "NotificationError", "NotificationsApp"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class NotificationsApp:
    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        transport: MailTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url_for("notifications"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        # An injected transport (tests) is used alone; otherwise one per SMTP connection.
        signer = DkimSigner.from_settings(settings)  # refuses settings that cannot work
        self.routes = MailRoutes.only(transport) if transport is not None else (
            MailRoutes.from_settings(settings.smtp_url, settings.mail_dir, settings.mail_routes,
                                     settings.mail_connections))
        self.backoff = DomainBackoff()
        self.clock = clock or SystemClock()
        self.batch_wait = timedelta(seconds=settings.mail_batch_seconds)
        self.links = Links(settings.public_url, settings.secret_key)
        self.context = Context(self.clock, self.links, self.batch_wait, settings.mail_from,
                               retry_policy(settings), signer.sign if signer else None)
        self._sent_marks = SentMarks(lambda ids: delivery.mark_sent(self.uow, self.context, ids))
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.poll_interval = 0.5

    def uow(self) -> UnitOfWork:
        """A fresh unit of work; committing queued mail wakes the sender."""
        return UnitOfWork(self.engine, self._wake.set)

    # ------------------------------------------------------------------ the sender loop
    def background_loops(self) -> list[Callable[[], None]]:
        return [self.run_sender, self.run_retention]

    def apply_retention(self) -> dict[str, int]:
        return retention.apply_retention(self.uow(), self.context,
                                         self.settings.retention_unconfirmed_days,
                                         self.settings.retention_delivery_log_days)

    def run_retention(self) -> None:
        """Background loop: delete or pseudonymise what is past its time, every few minutes."""
        while not self._stopping.is_set():
            try:
                self.apply_retention()
            except Exception:  # database away: try again next round
                log.warning("applying retention failed", exc_info=True)
            self._stopping.wait(self.settings.retention_check_seconds)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def run_sender(self) -> None:
        while not self._stopping.is_set():
            try:
                bundled = self.bundle_due()
                sent = self.send_due()
            except Exception:
                log.exception("bundling or sending mail failed; trying again")
                bundled = sent = 0
            if not (bundled or sent):
                self._wake.wait(self.poll_interval)
                self._wake.clear()
        self.routes.close()

    # ------------------------------------------------------------------ links
    def unsubscribe_token(self, subscription_id: str) -> str:
        return self.links.unsubscribe_token(subscription_id)

    def unsubscribe_all_token(self, recipient_id: str) -> str:
        return self.links.unsubscribe_all_token(recipient_id)

    def preferences_token(self, recipient_id: str) -> str:
        return self.links.preferences_token(recipient_id)

    # ------------------------------------------------------------------ consent
    def subscribe(self, cmd: Subscribe, measure_title: str = "",
                  scope_title: str = "") -> SubscriptionAccepted:
        return subscriptions.subscribe(cmd, self.uow(), self.context, measure_title, scope_title)

    def confirm(self, cmd: ConfirmSubscription) -> dict[str, Any]:
        return subscriptions.confirm(cmd, self.uow(), self.context)

    def unsubscribe(self, token: str) -> dict[str, Any]:
        return subscriptions.unsubscribe(token, self.uow(), self.context)

    def preferences(self, token: str) -> Preferences:
        return subscriptions.preferences(token, self.uow(), self.context)

    def update_preferences(self, cmd: UpdatePreferences) -> Preferences:
        return subscriptions.update_preferences(cmd, self.uow(), self.context)

    def on_citizen_follows_measure(self, event: CitizenFollowsMeasure) -> bool:
        return subscriptions.on_citizen_follows_measure(event, self.uow(), self.context)

    def on_citizen_erased(self, event: CitizenErased) -> bool:
        return personal_data.on_citizen_erased(event, self.uow(), self.context)

    def personal_data(self, email: str) -> dict[str, Any]:
        return personal_data.personal_data(email, self.uow())

    def erase_address(self, email: str) -> dict[str, int]:
        return personal_data.erase_address(email, self.uow(), self.context)

    # ------------------------------------------------------------------ fan-out, personal mails
    def on_measure_status_changed(self, event: MeasureStatusChanged) -> int:
        return fan_out.on_measure_status_changed(event, self.uow(), self.context)

    def on_consultation_milestone(self, event: ConsultationMilestone) -> int:
        return fan_out.on_consultation_milestone(event, self.uow(), self.context)

    def on_citizen_link_requested(self, event: CitizenLinkRequested) -> bool:
        return personal_mails.on_citizen_link_requested(event, self.uow(), self.context)

    def on_comment_replied(self, event: CommentReplied) -> bool:
        return personal_mails.on_comment_replied(event, self.uow(), self.context)

    def on_idea_decided(self, event: IdeaAccepted | IdeaDeclined) -> bool:
        return personal_mails.on_idea_decided(event, self.uow(), self.context)

    # ------------------------------------------------------------------ bundling, delivery
    def bundle_due(self, limit: int = 500) -> int:
        return digests.bundle_due(self.uow, self.context, limit)

    def send_due(self, limit: int = 500) -> int:
        return delivery.send_due(self.uow, self.context, self.routes, self._sent_marks,
                                 self.backoff, limit)

    def delivery_log(self, limit: int = 100) -> DeliveryLog:
        return delivery.delivery_log(self.uow(), limit)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(window=timedelta(hours=settings.mail_retry_hours),
                       first=timedelta(seconds=settings.mail_retry_first_seconds),
                       longest=timedelta(seconds=settings.mail_retry_max_seconds),
                       throttle=timedelta(seconds=settings.mail_throttle_seconds))
