"""nameko entrypoints of a town's participation instance (one service name per town).

Thin: a command arrives as `command=<dict>`, is validated with its contract and
handed to its use case in `service_layer/` with a new unit of work; every answer
is `ok(data)`, `invalid(validation error)` or `refuse(code, message, details)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from services.participation.domain.errors import ParticipationError
from services.participation.service_layer import (
    citizens,
    consultations,
    discussion,
    ideas,
    measure_replica,
    moderation,
    paper,
    paper_import,
    ratings,
    town_results,
    verified_sign_in,
)
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.contracts import (
    ChangeConsultationPhase,
    CreateConsultation,
    DecideIdea,
    EnterPaperSheet,
    Event,
    FlagComment,
    ImportPaperSheets,
    Moderate,
    PostComment,
    ProposeIdea,
    RateMeasure,
    RedeemLink,
    RegisterCitizen,
    RequestSignIn,
    UpdateCitizen,
    UpdateConsultation,
    VerifiedSignIn,
)
from soesmart.messaging.nameko_ext import event_consumer, invalid, ok, refuse, rpc
from soesmart.messaging.topology import participation_queue
from soesmart.runtime import AppProvider
from soesmart.towns import Town


def _json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def answer(call: Callable[[], Any]) -> dict[str, Any]:
    """Run one use case and put its result or refusal into the one reply shape."""
    try:
        return ok(_json(call()))
    except ValidationError as exc:
        return invalid(exc)
    except ParticipationError as exc:
        return refuse(exc.code, str(exc), exc.details)


class ParticipationService:
    """Entrypoints shared by every town; `participation_service_for` gives each its name."""

    name = "participation"
    app: ParticipationApp = AppProvider(ParticipationApp)  # type: ignore[assignment]

    # ---------------------------------------------------------------- citizens
    @rpc
    def register_citizen(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: citizens.register_citizen(RegisterCitizen.model_validate(command),
                                                        self.app.uow()))

    @rpc
    def request_sign_in(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: citizens.request_sign_in(RequestSignIn.model_validate(command), self.app.uow()))

    @rpc
    def confirm_citizen(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: citizens.confirm_citizen(RedeemLink.model_validate(command), self.app.uow()))

    @rpc
    def redeem_sign_in(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: citizens.redeem_sign_in(RedeemLink.model_validate(command), self.app.uow()))

    @rpc
    def sign_in_verified(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: verified_sign_in.sign_in_verified(
            VerifiedSignIn.model_validate(command), self.app.uow()))

    @rpc
    def citizen_session(self, citizen_id: str) -> dict[str, Any]:
        return answer(lambda: citizens.citizen_session(citizen_id, self.app.uow()))

    @rpc
    def get_citizen(self, citizen_id: str) -> dict[str, Any]:
        return answer(lambda: citizens.get_citizen(citizen_id, self.app.uow()))

    @rpc
    def update_citizen(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: citizens.update_citizen(UpdateCitizen.model_validate(command), self.app.uow()))

    @rpc
    def erase_citizen(self, citizen_id: str, address_erased_elsewhere: bool = False) -> dict[str, Any]:
        return answer(lambda: citizens.erase_citizen(citizen_id, self.app.uow(),
                                                     address_erased_elsewhere))

    # ---------------------------------------------------------------- consultations
    @rpc
    def list_consultations(self, include_drafts: bool = False) -> dict[str, Any]:
        return answer(lambda: consultations.list_consultations(self.app.uow(), bool(include_drafts)))

    @rpc
    def open_consultations(self) -> dict[str, Any]:
        return answer(lambda: consultations.open_consultations(self.app.uow()))

    @rpc
    def get_consultation(self, consultation_id: str) -> dict[str, Any]:
        return answer(lambda: consultations.consultation(consultation_id, self.app.uow()))

    @rpc
    def create_consultation(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: consultations.create_consultation(
            CreateConsultation.model_validate(command), self.app.uow()))

    @rpc
    def update_consultation(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: consultations.update_consultation(
            UpdateConsultation.model_validate(command), self.app.uow()))

    @rpc
    def change_consultation_phase(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: consultations.change_consultation_phase(
            ChangeConsultationPhase.model_validate(command), self.app.uow()))

    # ---------------------------------------------------------------- ratings
    @rpc
    def rate(self, command: dict[str, Any], consultation_id: str | None = None) -> dict[str, Any]:
        return answer(lambda: ratings.rate(RateMeasure.model_validate(command), self.app.uow(),
                                           consultation_id))

    @rpc
    def my_ratings(self, citizen_id: str, consultation_id: str | None = None) -> dict[str, Any]:
        return answer(lambda: ratings.my_ratings(citizen_id, self.app.uow(), consultation_id))

    @rpc
    def export_ratings(self, after_id: str | None = None, limit: int = 1000) -> dict[str, Any]:
        """A page of this town's stored ratings, for rebuilding the combined results."""
        if not isinstance(limit, int) or not 1 <= limit <= 10000:
            return refuse("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                          [{"field": "limit", "problem": "must be a whole number from 1 to 10000"}])
        return answer(lambda: ratings.export_ratings(after_id, limit, self.app.uow()))

    # ---------------------------------------------------------------- comments and ideas
    @rpc
    def list_comments(self, measure_code: str, consultation_id: str | None = None) -> dict[str, Any]:
        return answer(lambda: discussion.list_comments(measure_code, self.app.uow(), consultation_id))

    @rpc
    def post_comment(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: discussion.post_comment(PostComment.model_validate(command), self.app.uow()))

    @rpc
    def flag_comment(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: discussion.flag_comment(FlagComment.model_validate(command), self.app.uow()))

    @rpc
    def propose_idea(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: ideas.propose_idea(ProposeIdea.model_validate(command), self.app.uow()))

    @rpc
    def list_ideas(self, status: str | None = None, include_hidden: bool = False) -> dict[str, Any]:
        return answer(lambda: ideas.list_ideas(self.app.uow(), status, bool(include_hidden)))

    @rpc
    def decide_idea(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: ideas.decide_idea(DecideIdea.model_validate(command), self.app.uow()))

    # ---------------------------------------------------------------- moderation and results
    @rpc
    def moderation_queue(self) -> dict[str, Any]:
        return answer(lambda: moderation.moderation_queue(self.app.uow()))

    @rpc
    def moderate(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: moderation.moderate(Moderate.model_validate(command), self.app.uow()))

    @rpc
    def moderation_log(self, limit: int = 100) -> dict[str, Any]:
        return answer(lambda: moderation.moderation_log(self.app.uow(), limit))

    @rpc
    def town_results(self, consultation_id: str) -> dict[str, Any]:
        return answer(lambda: town_results.town_results(consultation_id, self.app.uow()))

    @rpc
    def town_results_csv(self, consultation_id: str) -> dict[str, Any]:
        return answer(lambda: town_results.town_results_csv(consultation_id, self.app.uow()))

    # ---------------------------------------------------------------- paper questionnaires
    @rpc
    def enter_paper_sheet(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: paper.enter_sheet(EnterPaperSheet.model_validate(command), self.app.uow()))

    @rpc
    def import_paper_sheets(self, command: dict[str, Any]) -> dict[str, Any]:
        return answer(lambda: paper_import.import_sheets(ImportPaperSheets.model_validate(command),
                                                         self.app.uow()))

    @rpc
    def paper_sheet(self, consultation_id: str, sheet_number: int) -> dict[str, Any]:
        return answer(lambda: paper.sheet(consultation_id, int(sheet_number), self.app.uow()))

    @rpc
    def paper_sheets(self, consultation_id: str) -> dict[str, Any]:
        return answer(lambda: paper.list_sheets(consultation_id, self.app.uow()))

    @rpc
    def ping(self) -> dict[str, Any]:
        return ok("pong")


def participation_service_for(town: Town) -> type:
    """A service class for one town: its own nameko name and its own event queue."""

    def on_event(self: ParticipationService, event: Event) -> None:
        measure_replica.apply_measure_event(event, self.app.uow())

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
