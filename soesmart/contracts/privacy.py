"""Contracts of the legal duties: accessibility feedback, a person's data, erasure by address.

The gateway sends them to the notifications service (feedback mails, the person's
subscriptions, consents and deliveries) and to a town's instance (the town's part).
"""

from __future__ import annotations

from typing import Any

from pydantic import EmailStr, Field, field_validator

from soesmart.contracts.common import Contract, Language, TownSlug


class AccessibilityFeedback(Contract):
    """Command: a person tells a town (or the region) of a barrier; no account needed.

    Reaches the town's accessibility contact as a mail (BITV 2.0 § 7 feedback mechanism).
    """

    town: TownSlug | None = None  # None: the region's pages
    message: str = Field(min_length=1, max_length=5000)
    name: str = Field(default="", max_length=200)
    email: EmailStr | None = None  # for an answer; optional
    page: str = Field(default="", max_length=500)  # the page or content the barrier is on
    language: Language = "de"

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is empty")
        return value.strip()

    @field_validator("email", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class FeedbackAccepted(Contract):
    status: str = "sent"
