"""The unit of work of the notifications service: one transaction over its tables."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Connection, Engine

from services.notifications.adapters import tables as t
from services.notifications.adapters.item_repository import ItemRepository
from services.notifications.adapters.mail_queue import MailQueue
from services.notifications.adapters.personal_data import PersonalData
from services.notifications.adapters.subscription_repository import SubscriptionRepository
from soesmart.contracts import Event
from soesmart.messaging.outbox import claim_event


class UnitOfWork:
    """One transaction on the notifications database.

    An incoming event is claimed (`claim`) in the same transaction as its effect,
    and mails are queued with it, so a redelivered event queues nothing twice.
    `commit()` commits, then wakes the sender if mail was queued; leaving
    without `commit()` rolls everything back.
    """

    def __init__(self, engine: Engine, wake_sender: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._wake_sender = wake_sender
        self._conn: Connection | None = None

    def __enter__(self) -> UnitOfWork:
        self._conn = self._engine.connect()
        self._conn.begin()
        self.subscriptions = SubscriptionRepository(self._conn)
        self.items = ItemRepository(self._conn)
        self.mails = MailQueue(self._conn)
        self.personal = PersonalData(self._conn)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()  # a transaction not committed is rolled back

    def claim(self, event: Event) -> bool:
        """Record an incoming event as handled in this transaction; False if it was before."""
        assert self._conn is not None, "use the unit of work in a with block"
        return claim_event(self._conn, t.processed_events, event)

    def commit(self) -> None:
        assert self._conn is not None, "use the unit of work in a with block"
        self._conn.commit()
        if self.mails.queued:
            self._wake_sender()
            self.mails.queued = False
