"""What the notifications service refuses, named for what went wrong. No framework imports."""

from __future__ import annotations

from typing import Any


class NotificationError(Exception):
    code = "NOTIFICATION_ERROR"
    details: tuple[dict[str, Any], ...] = ()


class InvalidLink(NotificationError):
    code = "INVALID_LINK"


class InvalidScope(NotificationError):
    code = "VALIDATION_FAILED"
    details = ({"field": "scope_value", "problem": "unknown"},)
