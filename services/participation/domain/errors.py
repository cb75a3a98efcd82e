"""The refusals of a town's participation instance: one class per thing that went wrong."""

from __future__ import annotations

from typing import Any

Details = list[dict[str, Any]]


class ParticipationError(Exception):
    """A refused command; `code` names what went wrong, `details` the fields."""

    code = "PARTICIPATION_ERROR"

    def __init__(self, message: str, details: Details | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class InvalidInput(ParticipationError):
    code = "VALIDATION_FAILED"


class EmptyAnswer(InvalidInput):
    pass


class ConsultationNotFound(ParticipationError):
    code = "CONSULTATION_NOT_FOUND"


class ConsultationNotOpen(ParticipationError):
    code = "CONSULTATION_NOT_OPEN"


class ConsultationLocked(ParticipationError):
    code = "CONSULTATION_LOCKED"


class ConsultationWithoutMeasures(ParticipationError):
    code = "CONSULTATION_WITHOUT_MEASURES"


class PhaseChangeNotAllowed(ParticipationError):
    code = "PHASE_CHANGE_NOT_ALLOWED"


class MeasureAlreadyAsked(ParticipationError):
    code = "MEASURE_ALREADY_ASKED"


class MeasureNotInConsultation(ParticipationError):
    code = "MEASURE_NOT_IN_CONSULTATION"


class MeasureUnknown(ParticipationError):
    code = "MEASURE_UNKNOWN"


class PostcodeOfOtherTown(ParticipationError):
    code = "POSTCODE_OF_OTHER_TOWN"


class PostcodeNotInTown(ParticipationError):
    code = "POSTCODE_NOT_IN_TOWN"


class LinkInvalid(ParticipationError):
    code = "LINK_INVALID"


class CitizenNotFound(ParticipationError):
    code = "CITIZEN_NOT_FOUND"


class CitizenNotConfirmed(ParticipationError):
    code = "CITIZEN_NOT_CONFIRMED"


class CommentNotFound(ParticipationError):
    code = "COMMENT_NOT_FOUND"


class ReplyToReply(ParticipationError):
    code = "REPLY_TO_REPLY"


class IdeaNotFound(ParticipationError):
    code = "IDEA_NOT_FOUND"


class IdeaAlreadyDecided(ParticipationError):
    code = "IDEA_ALREADY_DECIDED"


class RateLimited(ParticipationError):
    code = "RATE_LIMITED"


class PaperSheetAlreadyEntered(ParticipationError):
    code = "SHEET_ALREADY_ENTERED"


class PaperSheetNotFound(ParticipationError):
    code = "SHEET_NOT_FOUND"


class PaperImportInvalid(ParticipationError):
    code = "PAPER_IMPORT_INVALID"


class IdentityConflict(ParticipationError):
    code = "IDENTITY_CONFLICT"  # the verified email belongs to an account of another identity
