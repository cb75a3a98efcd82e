"""Contracts of the regional `notifications` service: subscriptions with consent,
preferences and the delivery log."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import EmailStr, Field, ValidationInfo, field_validator, model_validator

from soesmart.contracts.common import (
    CLIMATE_FIELDS,
    MEASURE_CODE_PATTERN,
    MOBILITY_FIELDS,
    Contract,
    MeasureCode,
)


class SubscriptionScope(StrEnum):
    """What a subscription follows."""

    MEASURE = "measure"  # scope_value: a measure code
    FIELD_OF_ACTION = "field_of_action"  # scope_value: e.g. "cycling"
    TOWN = "town"  # scope_value: a town slug (its consultations and measures)
    REGION = "region"  # scope_value: "all"


class Frequency(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


REGION_SCOPE_VALUE = "all"
# RFC 2606 / 6761 names that never receive mail. email-validator already refuses
# .test, .invalid, .localhost, .local, .onion and .arpa; ".example" is added here.
# The second-level example.com/.net/.org are accepted on purpose: the test suite,
# the demo and the local mail catcher use them (see the notifications README note).
UNDELIVERABLE_TLDS = ("example",)
_SCOPE_VALUE_PATTERNS = {
    SubscriptionScope.MEASURE: MEASURE_CODE_PATTERN,
    SubscriptionScope.TOWN: r"^[a-z0-9][a-z0-9-]{0,39}$",
    SubscriptionScope.FIELD_OF_ACTION: r"^[a-z][a-z_]{1,39}$",
    SubscriptionScope.REGION: rf"^{REGION_SCOPE_VALUE}$",
}


class Subscribe(Contract):
    """Command: ask for consent to mail `email` about one scope.

    The first version had only `measure_code`; a body with `measure_code` alone
    still means `scope_type="measure"`, `scope_value=<code>`.
    """

    email: EmailStr
    scope_type: SubscriptionScope = SubscriptionScope.MEASURE
    scope_value: str = Field(default="", max_length=60, validate_default=True)
    measure_code: MeasureCode | None = None
    language: Literal["de", "en"] = "de"
    frequency: Frequency = Frequency.IMMEDIATE

    @model_validator(mode="before")
    @classmethod
    def _measure_code_means_measure_scope(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("measure_code") and not data.get("scope_value"):
            data.setdefault("scope_type", SubscriptionScope.MEASURE)
            data["scope_value"] = data["measure_code"]
        if data.get("scope_type") == SubscriptionScope.REGION and not data.get("scope_value"):
            data["scope_value"] = REGION_SCOPE_VALUE
        return data

    @field_validator("email")
    @classmethod
    def _deliverable(cls, value: str) -> str:
        domain = value.rsplit("@", 1)[-1].lower()
        if domain.rsplit(".", 1)[-1] in UNDELIVERABLE_TLDS:
            raise ValueError(f"An „{domain}“ kann keine E-Mail zugestellt werden.")
        return value

    @field_validator("scope_value")
    @classmethod
    def _fits_scope_type(cls, value: str, info: ValidationInfo) -> str:
        scope = info.data.get("scope_type")
        if scope is None:  # the scope type itself was refused
            return value
        if not re.match(_SCOPE_VALUE_PATTERNS[scope], value):
            raise ValueError(f"'{value}' ist kein gültiger Wert für den Bereich '{scope}'")
        if scope == SubscriptionScope.FIELD_OF_ACTION and value not in (
            MOBILITY_FIELDS + CLIMATE_FIELDS
        ):
            raise ValueError(f"unbekanntes Handlungsfeld '{value}'")
        return value

    @model_validator(mode="after")
    def _measure_code_agrees(self) -> Subscribe:
        if self.measure_code is not None and (
            self.scope_type != SubscriptionScope.MEASURE or self.scope_value != self.measure_code
        ):
            raise ValueError("measure_code and scope_type/scope_value disagree")
        return self


class SubscriptionAccepted(Contract):
    """Said whether or not the address was already subscribed (no hint either way)."""

    status: Literal["confirmation_sent"] = "confirmation_sent"


class ConfirmSubscription(Contract):
    token: str = Field(min_length=10, max_length=200)


class SubscriptionView(Contract):
    id: str
    scope_type: SubscriptionScope
    scope_value: str
    frequency: Frequency
    confirmed_at: datetime | None


class Preferences(Contract):
    """What the signed preferences link shows: one address and its confirmed subscriptions."""

    email: str
    language: Literal["de", "en"]
    subscriptions: tuple[SubscriptionView, ...]


class UpdatePreferences(Contract):
    """Command from the preferences page; `token` is the signed link of the address."""

    token: str = Field(min_length=10, max_length=200)
    language: Literal["de", "en"] | None = None
    frequencies: dict[str, Frequency] = Field(default_factory=dict)  # subscription id -> new
    unsubscribe: tuple[str, ...] = ()
    unsubscribe_all: bool = False


class DeliveryCount(Contract):
    cause: str
    status: Literal["pending", "sent", "failed"]
    count: int
    retried: int = Field(description="of these, how many needed more than one attempt")


class DeliveryLog(Contract):
    """For admins: mails by cause and outcome, the latest deliveries, bouncing addresses."""

    counts: tuple[DeliveryCount, ...]
    bouncing_addresses: int
    recent: tuple[dict[str, Any], ...]
