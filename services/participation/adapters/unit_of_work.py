"""One command's transaction in one town's instance: its repositories, its clock, its events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from types import TracebackType
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, RootTransaction

from services.participation.adapters import tables as t
from services.participation.adapters.citizens import CitizenRepository, LinkRepository
from services.participation.adapters.consultations import ConsultationRepository, OpenConsultations
from services.participation.adapters.discussion import CommentRepository
from services.participation.adapters.ideas import IdeaRepository
from services.participation.adapters.measure_replica import MeasureReplica
from services.participation.adapters.moderation import ModerationRepository
from services.participation.adapters.paper import PaperSheetRepository
from services.participation.adapters.rate_limits import RateLimits
from services.participation.adapters.ratings import RatingRepository
from soesmart.config import Settings
from soesmart.contracts import Event, Source
from soesmart.messaging.outbox import add_events
from soesmart.towns import Town

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Instance:
    """What every use case of one town's instance knows besides its storage."""

    settings: Settings
    town: Town
    clock: Callable[[], datetime]  # a port: tests move time

    @cached_property
    def source(self) -> Source:
        return Source(service="participation", town=self.town.slug)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone(BERLIN).date()


class UnitOfWork:
    """`with uow:` opens one transaction; the repositories share its connection.

    `commit()` writes the change and the outbox rows of its events together (the
    events are added on the same connection, see `add_events`). Leaving the block
    without `commit()` rolls everything back: a refused command writes nothing (no
    row, no event, no rate-limit hit). Each `with` is a new transaction.
    """

    citizens: CitizenRepository
    links: LinkRepository
    rate_limits: RateLimits
    consultations: ConsultationRepository
    ratings: RatingRepository
    comments: CommentRepository
    ideas: IdeaRepository
    moderation: ModerationRepository
    replica: MeasureReplica
    paper: PaperSheetRepository

    def __init__(self, engine: Engine, instance: Instance, open_consultations: OpenConsultations,
                 after_events: Callable[[], None]) -> None:
        self.engine = engine
        self.instance = instance
        self._open = open_consultations
        self._after_events = after_events
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._events = 0

    def __enter__(self) -> UnitOfWork:
        conn = self.engine.connect()
        self._conn, self._tx, self._events = conn, conn.begin(), 0
        self.citizens, self.links = CitizenRepository(conn), LinkRepository(conn)
        self.rate_limits = RateLimits(conn)
        self.consultations = ConsultationRepository(conn, self._open)
        self.ratings = RatingRepository(conn)
        self.comments, self.ideas = CommentRepository(conn), IdeaRepository(conn)
        self.moderation, self.replica = ModerationRepository(conn), MeasureReplica(conn)
        self.paper = PaperSheetRepository(conn)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        conn, tx, self._conn, self._tx = self._conn, self._tx, None, None
        try:
            if tx is not None and tx.is_active:
                tx.rollback()
        finally:
            if conn is not None:
                conn.close()

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "use the unit of work in a `with` block"
        return self._conn

    def add_events(self, events: Iterable[Event]) -> None:
        """Outbox rows for `events`, in this transaction: they leave only if it commits."""
        self._events += add_events(self.connection, t.outbox, events)

    def commit(self) -> None:
        assert self._tx is not None, "use the unit of work in a `with` block"
        self._tx.commit()
        if self.consultations.changed:
            self._open.forget()
        if self._events:
            self._after_events()  # the relay sends them at once
