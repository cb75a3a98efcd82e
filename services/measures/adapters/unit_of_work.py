"""The unit of work of the measures service: one transaction, the change and its outbox events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType

from sqlalchemy import Connection, Engine

from services.measures.adapters import tables as t
from services.measures.adapters.catalogue_repository import CatalogueRepository
from services.measures.adapters.projection_repository import ProjectionRepository
from services.measures.adapters.results_queries import ResultsQueries
from services.measures.adapters.story_repository import StoryRepository
from soesmart.contracts import Event
from soesmart.messaging.outbox import OutboxRelay, add_events, claim_event


class UnitOfWork:
    """One transaction on the measures database.

    `commit()` writes the collected events into the outbox in the same transaction
    as the change they report, then wakes the relay; leaving without `commit()`
    rolls everything back. `results_changed()` tells the results cache, after the
    commit, that the combined results moved.
    """

    def __init__(self, engine: Engine, relay: OutboxRelay,
                 on_results_changed: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._relay = relay
        self._on_results_changed = on_results_changed
        self._conn: Connection | None = None
        self._events: list[Event] = []
        self._results_changed = False

    def __enter__(self) -> UnitOfWork:
        self._conn = self._engine.connect()
        self._conn.begin()
        self._events = []
        self._results_changed = False
        self.catalogue = CatalogueRepository(self._conn)
        self.projection = ProjectionRepository(self._conn)
        self.results = ResultsQueries(self._conn)
        self.story = StoryRepository(self._conn)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._conn is not None
        self._conn.close()  # rolls back what was not committed
        self._conn = None

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "use the unit of work in a with block"
        return self._conn

    def add_events(self, events: Iterable[Event]) -> None:
        self._events.extend(events)

    def claim(self, event: Event) -> bool:
        """Record an incoming event as handled in this transaction; False if it was before."""
        return claim_event(self.connection, t.processed_events, event)

    def results_changed(self) -> None:
        self._results_changed = True

    def commit(self) -> None:
        conn = self.connection
        add_events(conn, t.outbox, self._events)
        conn.commit()
        if self._events:
            self._relay.wake()
        if self._results_changed:
            self._on_results_changed()
        self._events, self._results_changed = [], False
