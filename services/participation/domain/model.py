"""Rules of a town's consultation and a citizen's answer. No framework imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from soesmart.contracts import Support


class ParticipationError(Exception):
    code = "PARTICIPATION_ERROR"

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class ConsultationNotFound(ParticipationError):
    code = "CONSULTATION_NOT_FOUND"


class ConsultationNotOpen(ParticipationError):
    code = "CONSULTATION_NOT_OPEN"


class MeasureNotInConsultation(ParticipationError):
    code = "MEASURE_NOT_IN_CONSULTATION"


class EmptyAnswer(ParticipationError):
    code = "VALIDATION_FAILED"


@dataclass(frozen=True)
class Consultation:
    id: str
    title: str
    status: str
    starts_on: date
    ends_on: date
    measure_codes: frozenset[str]

    def accepts_answers(self, today: date) -> bool:
        return self.status == "open" and self.starts_on <= today <= self.ends_on

    def check_can_rate(self, measure_code: str, today: date) -> None:
        if not self.accepts_answers(today):
            raise ConsultationNotOpen(
                "Diese Beteiligung ist nicht geöffnet; Antworten sind nur während der "
                "Beteiligungsphase möglich."
            )
        if measure_code not in self.measure_codes:
            raise MeasureNotInConsultation(
                f"Die Maßnahme {measure_code} gehört nicht zu dieser Beteiligung.",
                [{"field": "measure_code", "problem": "not part of this consultation"}],
            )


@dataclass(frozen=True)
class Answer:
    effectiveness: int | None
    support: Support | None
    reason: str | None

    def check_not_empty(self) -> None:
        if self.effectiveness is None and self.support is None:
            raise EmptyAnswer(
                "Bitte beantworten Sie mindestens eine der beiden Fragen.",
                [
                    {"field": "effectiveness", "problem": "one of effectiveness or support is required"},
                    {"field": "support", "problem": "one of effectiveness or support is required"},
                ],
            )

    def same_as(self, other: Answer) -> bool:
        return (self.effectiveness, self.support, self.reason or None) == (
            other.effectiveness,
            other.support,
            other.reason or None,
        )
