"""One town's participation instance wired to its database, outbox relay and clock.

The use cases live in one module each (citizens, consultations, ratings, discussion,
ideas, moderation, town_results, measure_replica); each takes its command and a unit
of work. `ParticipationApp` opens them for callers in this process (tests, benchmark);
the nameko entrypoints call the use cases directly. Demo data (`demo_data`) is loaded
only when demo mode is on.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.participation.adapters import tables as t
from services.participation.adapters.consultations import OpenConsultations
from services.participation.adapters.unit_of_work import Instance, UnitOfWork
from services.participation.service_layer import (
    citizens,
    consultations,
    demo_data,
    discussion,
    ideas,
    measure_replica,
    moderation,
    paper,
    paper_import,
    ratings,
    retention,
    town_results,
)
from soesmart import contracts as c
from soesmart.config import Settings
from soesmart.messaging.outbox import OutboxRelay
from soesmart.storage import make_engine, migrate
from soesmart.towns import towns

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _now() -> datetime:
    return datetime.now(UTC)


class ParticipationApp:
    """One town's participation instance, wired to its own database and outbox."""

    def __init__(self, settings: Settings, engine: Engine | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.settings = settings
        self.town = towns().get(settings.town or "")
        self.clock = clock  # a port: tests move time
        self.instance = Instance(settings, self.town, clock)
        self.engine = engine or make_engine(settings.database_url_for("participation"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        self.relay = OutboxRelay(self.engine, t.outbox, settings.broker_url, batch_size=settings.outbox_batch)
        self.open_consultations_cache = OpenConsultations()
        self._stopping = threading.Event()
        if settings.demo:
            demo_data.load(self.uow())

    def uow(self) -> UnitOfWork:
        """A fresh unit of work on this instance's database and outbox."""
        return UnitOfWork(self.engine, self.instance, self.open_consultations_cache, self.relay.wake)

    def background_loops(self) -> list[Callable[[], None]]:
        return [self.relay.run, self.consultation_loop]

    def stop(self) -> None:
        self._stopping.set()
        self.relay.stop()

    def consultation_loop(self) -> None:
        """Background loop: the consultation calendar, every `consultation_check_seconds`."""
        while not self._stopping.is_set():
            try:
                consultations.check_consultations(self.uow())
                self.apply_retention()
            except Exception:  # database away: try again next round
                log.warning("checking the consultations failed", exc_info=True)
            self._stopping.wait(self.settings.consultation_check_seconds)

    def apply_retention(self) -> dict[str, int]:
        """Delete what is kept only for a while (run by the consultation loop)."""
        return retention.apply_retention(self.uow(), self.settings.retention_unconfirmed_days)

    def _forget_consultations(self) -> None:
        """Drop the cached open consultations (after a change behind the instance's back)."""
        self.open_consultations_cache.forget()

    # ---------------------------------------------------------------- the use cases, in process
    def register_citizen(self, cmd: c.RegisterCitizen) -> c.LinkSent:
        return citizens.register_citizen(cmd, self.uow())

    def request_sign_in(self, cmd: c.RequestSignIn) -> c.LinkSent:
        return citizens.request_sign_in(cmd, self.uow())

    def confirm_citizen(self, cmd: c.RedeemLink) -> c.CitizenSession:
        return citizens.confirm_citizen(cmd, self.uow())

    def redeem_sign_in(self, cmd: c.RedeemLink) -> c.CitizenSession:
        return citizens.redeem_sign_in(cmd, self.uow())

    def citizen_session(self, citizen_id: uuid.UUID | str) -> c.CitizenSession:
        return citizens.citizen_session(citizen_id, self.uow())

    def get_citizen(self, citizen_id: uuid.UUID | str) -> c.CitizenView:
        return citizens.get_citizen(citizen_id, self.uow())

    def update_citizen(self, cmd: c.UpdateCitizen) -> c.CitizenView:
        return citizens.update_citizen(cmd, self.uow())

    def erase_citizen(self, citizen_id: uuid.UUID | str,
                      address_erased_elsewhere: bool = False) -> dict[str, bool]:
        return citizens.erase_citizen(citizen_id, self.uow(), address_erased_elsewhere)

    def list_consultations(self, include_drafts: bool = False) -> list[c.ConsultationView]:
        return consultations.list_consultations(self.uow(), include_drafts)

    def open_consultations(self) -> list[c.ConsultationView]:
        return consultations.open_consultations(self.uow())

    def consultation(self, cid: uuid.UUID | str) -> c.ConsultationView:
        return consultations.consultation(cid, self.uow())

    def create_consultation(self, cmd: c.CreateConsultation) -> c.ConsultationView:
        return consultations.create_consultation(cmd, self.uow())

    def update_consultation(self, cmd: c.UpdateConsultation) -> c.ConsultationView:
        return consultations.update_consultation(cmd, self.uow())

    def change_consultation_phase(self, cmd: c.ChangeConsultationPhase) -> c.ConsultationView:
        return consultations.change_consultation_phase(cmd, self.uow())

    def check_consultations(self) -> list[tuple[str, str]]:
        return consultations.check_consultations(self.uow())

    def rate(self, cmd: c.RateMeasure, consultation_id: uuid.UUID | str | None = None) -> c.RatingAccepted:
        return ratings.rate(cmd, self.uow(), consultation_id)

    def my_ratings(self, citizen_id: uuid.UUID | str,
                   consultation_id: uuid.UUID | str | None = None) -> list[dict[str, Any]]:
        return ratings.my_ratings(citizen_id, self.uow(), consultation_id)

    def export_ratings(self, after_id: str | None, limit: int) -> c.RatingsPage:
        return ratings.export_ratings(after_id, limit, self.uow())

    def post_comment(self, cmd: c.PostComment) -> c.CommentView:
        return discussion.post_comment(cmd, self.uow())

    def list_comments(self, measure_code: str,
                      consultation_id: uuid.UUID | str | None = None) -> list[c.CommentView]:
        return discussion.list_comments(measure_code, self.uow(), consultation_id)

    def flag_comment(self, cmd: c.FlagComment) -> dict[str, bool]:
        return discussion.flag_comment(cmd, self.uow())

    def propose_idea(self, cmd: c.ProposeIdea) -> c.IdeaView:
        return ideas.propose_idea(cmd, self.uow())

    def idea(self, idea_id: uuid.UUID | str) -> c.IdeaView:
        return ideas.idea(idea_id, self.uow())

    def list_ideas(self, status: str | None = None, include_hidden: bool = False) -> list[c.IdeaView]:
        return ideas.list_ideas(self.uow(), status, include_hidden)

    def decide_idea(self, cmd: c.DecideIdea) -> c.IdeaView:
        return ideas.decide_idea(cmd, self.uow())

    def moderation_queue(self) -> c.ModerationQueue:
        return moderation.moderation_queue(self.uow())

    def moderate(self, cmd: c.Moderate) -> c.ModerationAct:
        return moderation.moderate(cmd, self.uow())

    def moderation_log(self, limit: int = 100) -> list[c.ModerationAct]:
        return moderation.moderation_log(self.uow(), limit)

    def town_results(self, consultation_id: uuid.UUID | str) -> c.TownResults:
        return town_results.town_results(consultation_id, self.uow())

    def town_results_csv(self, consultation_id: uuid.UUID | str) -> str:
        return town_results.town_results_csv(consultation_id, self.uow())

    def enter_paper_sheet(self, cmd: c.EnterPaperSheet) -> c.PaperSheetView:
        return paper.enter_sheet(cmd, self.uow())

    def import_paper_sheets(self, cmd: c.ImportPaperSheets) -> c.PaperImportReport:
        return paper_import.import_sheets(cmd, self.uow())

    def apply_measure_event(self, event: c.Event) -> bool:
        return measure_replica.apply_measure_event(event, self.uow())
