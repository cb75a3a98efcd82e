"""The gateway's one table from error codes to HTTP, and the one error shape.

Every refusal leaves the gateway as `{"error": CODE, "message": text, "details": [...]}`.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

ERROR_STATUS: dict[str, int] = {
    "VALIDATION_FAILED": 422,
    "MALFORMED_JSON": 400,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "PAYLOAD_TOO_LARGE": 413,
    "UNKNOWN_TOWN": 404,
    "NOT_FOUND": 404,
    "MEASURE_NOT_FOUND": 404,
    "CONSULTATION_NOT_FOUND": 404,
    "MEASURE_NOT_IN_CONSULTATION": 422,
    "CONSULTATION_NOT_OPEN": 409,
    "STATUS_TRANSITION_NOT_ALLOWED": 409,
    "CATALOGUE_IMPORT_INVALID": 422,
    "INVALID_LINK": 400,
    "CSRF_FAILED": 403,
    # participation (town instances)
    "CITIZEN_NOT_FOUND": 404,
    "CITIZEN_NOT_CONFIRMED": 403,
    "POSTCODE_OF_OTHER_TOWN": 422,
    "POSTCODE_NOT_IN_TOWN": 422,
    "IDENTITY_CONFLICT": 409,
    "LINK_INVALID": 400,
    "RATE_LIMITED": 429,
    "COMMENT_NOT_FOUND": 404,
    "REPLY_TO_REPLY": 422,
    "IDEA_NOT_FOUND": 404,
    "IDEA_ALREADY_DECIDED": 409,
    "PHASE_CHANGE_NOT_ALLOWED": 409,
    "MEASURE_ALREADY_ASKED": 409,
    "MEASURE_UNKNOWN": 422,
    "CONSULTATION_LOCKED": 409,  # an open consultation keeps its start and measures
    "CONSULTATION_WITHOUT_MEASURES": 409,
    "SHEET_ALREADY_ENTERED": 409,  # a paper sheet's number is entered once
    "SHEET_NOT_FOUND": 404,
    "PAPER_IMPORT_INVALID": 422,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "INVALID_CREDENTIALS": 401,
    "ACCOUNT_LOCKED": 429,
    "PASSWORD_SIGN_IN_OFF": 403,
    "METHOD_NOT_ALLOWED": 405,
    "SERVICE_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
}


class ApiError(Exception):
    """A refusal with a code from ERROR_STATUS; raised anywhere in the gateway."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]] | tuple = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details)

    @property
    def status(self) -> int:
        return ERROR_STATUS.get(self.code, 400)

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, default=str),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


def error_response(exc: ApiError) -> Response:
    headers = {"Retry-After": "5"} if exc.status == 503 else None
    if exc.status == 429:
        retry = next((d.get("retry_after") for d in exc.details if d.get("retry_after")), 60)
        headers = {"Retry-After": str(int(retry))}
    return json_response(exc.body(), exc.status, headers)
