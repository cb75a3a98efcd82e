"""Rules of a town's consultation, its citizens, their answers, comments and ideas. No framework imports."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from services.participation.domain.errors import (  # noqa: F401 - every refusal is named here too
    CitizenNotConfirmed,
    CitizenNotFound,
    CommentNotFound,
    ConsultationLocked,
    ConsultationNotFound,
    ConsultationNotOpen,
    ConsultationWithoutMeasures,
    EmptyAnswer,
    IdeaAlreadyDecided,
    IdeaNotFound,
    InvalidInput,
    LinkInvalid,
    MeasureAlreadyAsked,
    MeasureNotInConsultation,
    MeasureUnknown,
    ParticipationError,
    PhaseChangeNotAllowed,
    PostcodeNotInTown,
    PostcodeOfOtherTown,
    RateLimited,
    ReplyToReply,
)

ERASED_DISPLAY_NAME = "Gelöschtes Konto"
CLOSING_SOON_DAYS = 3
# "Würden Sie diese Maßnahme unterstützen?", in the order of the wire contract's `Support`
SUPPORT_ANSWERS = ("yes", "rather_yes", "rather_no", "no")


def as_id(value: uuid.UUID | str | None, field: str) -> str:
    """An id from a caller, as stored (a refusal names the field when it is not a UUID)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError):
        raise InvalidInput("Die Angaben sind ungültig.",
                           [{"field": field, "problem": "must be a UUID"}]) from None


# --------------------------------------------------------------------------- consultations
PHASES = ("draft", "open", "closed", "results_published")
# The only moves: forwards, one step at a time.
NEXT_PHASE = {"draft": "open", "open": "closed", "closed": "results_published"}
PHASE_NAMES = {
    "draft": "Entwurf", "open": "geöffnet", "closed": "geschlossen",
    "results_published": "Ergebnisse veröffentlicht",
}
MILESTONE_OF_PHASE = {"open": "opened", "closed": "closed", "results_published": "results_published"}


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

    def check_open_for(self, measure_code: str, today: date) -> None:
        """Ratings and comments: only while open, only for the consultation's measures."""
        if not self.accepts_answers(today):
            raise ConsultationNotOpen(
                "Diese Beteiligung ist nicht geöffnet; Antworten und Kommentare sind nur während "
                "der Beteiligungsphase möglich."
            )
        if measure_code not in self.measure_codes:
            raise MeasureNotInConsultation(
                f"Die Maßnahme {measure_code} gehört nicht zu dieser Beteiligung.",
                [{"field": "measure_code", "problem": "not part of this consultation"}],
            )

    check_can_rate = check_open_for

    def check_phase_change(self, phase: str, today: date) -> None:
        if NEXT_PHASE.get(self.status) != phase:
            raise PhaseChangeNotAllowed(
                f"Eine Beteiligung im Zustand „{PHASE_NAMES.get(self.status, self.status)}“ kann nicht "
                f"in den Zustand „{PHASE_NAMES.get(phase, phase)}“ wechseln. Erlaubt ist nur: Entwurf → "
                "geöffnet → geschlossen → Ergebnisse veröffentlicht.",
                [{"field": "phase", "problem": f"not allowed from {self.status}",
                  "current": self.status}],
            )
        if phase == "open":
            if not self.measure_codes:
                raise ConsultationWithoutMeasures(
                    "Eine Beteiligung ohne Maßnahmen kann nicht geöffnet werden.",
                    [{"field": "measure_codes", "problem": "at least one measure is needed"}],
                )
            if self.ends_on < today:
                raise PhaseChangeNotAllowed(
                    "Das Ende dieser Beteiligung liegt in der Vergangenheit; bitte zuerst das "
                    "Enddatum ändern.",
                    [{"field": "ends_on", "problem": "lies in the past"}],
                )

    def check_no_overlap(self, open_now: list[Consultation]) -> None:
        """A measure is asked in one open consultation of the town at a time: a citizen's
        answer to it must not depend on which of two pages they used."""
        overlap = sorted({code for other in open_now if other.id != self.id
                          for code in self.measure_codes & other.measure_codes})
        if overlap:
            raise MeasureAlreadyAsked(
                f"{len(overlap)} der Maßnahmen stehen schon in einer anderen geöffneten "
                f"Beteiligung der Stadt: {', '.join(overlap[:10])}"
                f"{' …' if len(overlap) > 10 else ''}. Bitte nehmen Sie sie heraus oder "
                "schließen Sie die andere Beteiligung zuerst.",
                [{"field": "measure_codes", "problem": "already in another open consultation",
                  "code": code} for code in overlap],
            )

    def check_editable(self, changes_measures: bool) -> None:
        if self.status not in ("draft", "open"):
            raise ConsultationLocked(
                "Eine geschlossene Beteiligung kann nicht mehr geändert werden.",
                [{"field": "consultation_id", "problem": f"consultation is {self.status}"}],
            )
        if changes_measures and self.status != "draft":
            raise ConsultationLocked(
                "Die Maßnahmen einer geöffneten Beteiligung können nicht mehr geändert werden.",
                [{"field": "measure_codes", "problem": "only a draft's measures can change"}],
            )

    def closes_soon(self, today: date) -> bool:
        return self.status == "open" and today <= self.ends_on <= today + timedelta(
            days=CLOSING_SOON_DAYS)

    def is_over(self, today: date) -> bool:
        return self.status == "open" and self.ends_on < today


def not_asked_in_town(measure_code: str, town_name: str) -> MeasureNotInConsultation:
    """No consultation of the town ever asked about the measure."""
    return MeasureNotInConsultation(
        f"Die Maßnahme {measure_code} steht in {town_name} derzeit nicht zur Beteiligung.",
        [{"field": "measure_code", "problem": "not part of an open consultation"}],
    )


def check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidInput("Das Ende liegt vor dem Beginn.",
                           [{"field": "ends_on", "problem": "before starts_on"}])


# --------------------------------------------------------------------------- answers
@dataclass(frozen=True)
class Answer:
    effectiveness: int | None
    support: str | None  # one of SUPPORT_ANSWERS
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


@dataclass(frozen=True)
class StoredRating:
    """A citizen's answer as stored: each change raises its version by one."""

    id: str
    version: int
    answer: Answer


@dataclass(frozen=True)
class AnswerCounts:
    """Answers to the two questions, aggregated (the wire contract is `Tally`)."""

    answers: int
    effectiveness_count: int
    effectiveness_mean: float | None
    effectiveness_distribution: dict[str, int]  # "1".."5" -> answers
    support: dict[str, int]  # each of SUPPORT_ANSWERS -> answers


def tally(effectiveness: Iterable[tuple[int | None, int]],
          support: Iterable[tuple[str | None, int]], answers: int) -> AnswerCounts:
    """A tally from counts per effectiveness value and per support answer."""
    distribution = {str(i): 0 for i in range(1, 6)}
    for value, n in effectiveness:
        if value is not None:
            distribution[str(value)] += n
    counted = sum(distribution.values())
    mean = (sum(int(k) * n for k, n in distribution.items()) / counted) if counted else None
    shares = dict.fromkeys(SUPPORT_ANSWERS, 0)
    for answer, n in support:
        if answer is not None:
            shares[answer] += n
    return AnswerCounts(answers=answers, effectiveness_count=counted,
                        effectiveness_mean=round(mean, 3) if mean is not None else None,
                        effectiveness_distribution=distribution, support=shares)


class SupportCounts(Protocol):
    @property
    def support(self) -> Mapping[str, int]: ...


def support_share(t: SupportCounts) -> float | None:
    """(yes + rather yes) / support answers, 0..1."""
    total = sum(t.support.values())
    if not total:
        return None
    return (t.support.get("yes", 0) + t.support.get("rather_yes", 0)) / total


# --------------------------------------------------------------------------- citizens
@dataclass(frozen=True)
class CitizenStanding:
    """What the participation rules need to know about a citizen."""

    exists: bool
    confirmed: bool
    erased: bool

    def check_can_participate(self) -> None:
        if not self.exists or self.erased:
            raise CitizenNotFound(
                "Bitte melden Sie sich an: Dieses Konto gibt es nicht (mehr).",
                [{"field": "citizen_id", "problem": "unknown citizen"}],
            )
        if not self.confirmed:
            raise CitizenNotConfirmed(
                "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse über den Link in unserer E-Mail.",
                [{"field": "citizen_id", "problem": "address not confirmed"}],
            )


def check_postcode(postcode: str, town_slug: str, town_name: str, town_postcodes: tuple[str, ...],
                   other_town: tuple[str, str] | None) -> None:
    """A citizen of this town lives at one of its postcodes; others are pointed to their town.

    `other_town` is (slug, name) of the town the postcode belongs to, if any.
    """
    if postcode in town_postcodes:
        return
    if other_town is not None and other_town[0] != town_slug:
        slug, name = other_town
        raise PostcodeOfOtherTown(
            f"Die Postleitzahl {postcode} gehört zu {name}. Bitte beteiligen Sie sich in {name}.",
            [{"field": "postcode", "problem": "belongs to another town", "town": slug,
              "town_name": name}],
        )
    raise PostcodeNotInTown(
        f"Die Postleitzahl {postcode} gehört nicht zu {town_name}. An dieser Beteiligung können "
        f"Einwohnerinnen und Einwohner von {town_name} teilnehmen.",
        [{"field": "postcode", "problem": f"not a postcode of {town_name}",
          "postcodes": ", ".join(town_postcodes)}],
    )


def token_hash(token: str) -> str:
    """Only this hash of a link's token is stored; the token itself is only in the mail."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def email_key(email: str) -> str:
    """One address, however it is capitalised."""
    return email.strip().casefold()


LINK_INVALID_MESSAGE = (
    "Dieser Link ist ungültig oder abgelaufen oder wurde schon benutzt. Bitte fordern Sie einen "
    "neuen Link an."
)


@dataclass(frozen=True)
class Link:
    purpose: str
    expires_at: datetime
    used_at: datetime | None
    citizen_erased: bool

    def check_redeemable(self, purpose: str, now: datetime) -> None:
        if (self.purpose != purpose or self.used_at is not None or self.expires_at <= now
                or self.citizen_erased):
            raise LinkInvalid(LINK_INVALID_MESSAGE, [{"field": "token", "problem": "invalid"}])


# --------------------------------------------------------------------------- comments and ideas
@dataclass(frozen=True)
class ParentComment:
    id: str
    measure_code: str
    consultation_id: str
    parent_id: str | None

    def check_can_take_reply(self, measure_code: str, consultation_id: str) -> None:
        if self.measure_code != measure_code or self.consultation_id != consultation_id:
            raise CommentNotFound(
                "Den Kommentar, auf den Sie antworten, gibt es bei dieser Maßnahme nicht.",
                [{"field": "parent_id", "problem": "no such comment on this measure"}],
            )
        if self.parent_id is not None:
            raise ReplyToReply(
                "Auf eine Antwort kann nicht noch einmal geantwortet werden; bitte antworten Sie "
                "auf den ursprünglichen Kommentar.",
                [{"field": "parent_id", "problem": "replies go one level deep"}],
            )


def check_idea_undecided(status: str) -> None:
    if status != "submitted":
        raise IdeaAlreadyDecided(
            "Über diese Idee wurde bereits entschieden.",
            [{"field": "idea_id", "problem": f"already {status}"}],
        )


# --------------------------------------------------------------------------- rate limits
@dataclass(frozen=True)
class Limit:
    """At most `count` actions per `window` seconds for one key (an address, a client, a citizen)."""

    count: int
    window: float

    def check(self, hits_in_window: list[datetime], now: datetime, what: str) -> None:
        if self.count <= 0 or len(hits_in_window) < self.count:
            return
        oldest = sorted(hits_in_window)[len(hits_in_window) - self.count]
        retry_after = max(1, math.ceil((oldest + timedelta(seconds=self.window) - now).total_seconds()))
        raise RateLimited(
            f"Zu viele Anfragen ({what}). Bitte versuchen Sie es in {_in_words(retry_after)} erneut.",
            [{"field": "", "problem": "rate limited", "retry_after": retry_after}],
        )


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} Sekunden"
    return f"{math.ceil(seconds / 60)} Minuten"
