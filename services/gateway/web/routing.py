"""Decorators every gateway route goes through: one place for errors and security headers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from pydantic import ValidationError
from werkzeug.wrappers import Request, Response

from services.gateway.web import page as pages
from services.gateway.web.backend import validation_details
from services.gateway.web.errors import ApiError, error_response

log = logging.getLogger("services.gateway.entrypoints.service")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}



def secure(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def invalid(exc: ValidationError) -> ApiError:
    return ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.", validation_details(exc))


def json_route(fn: Callable[..., Response]) -> Callable[..., Response]:
    @wraps(fn)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        request.max_content_length = self.app.settings.max_body_bytes
        try:
            response = fn(self, request, *args, **kwargs)
        except ApiError as exc:
            response = error_response(exc)
        except ValidationError as exc:  # a contract built from path or query values
            response = error_response(invalid(exc))
        except Exception:
            log.exception("unexpected error in %s", request.path)
            response = error_response(
                ApiError("INTERNAL_ERROR", "Ein unerwarteter Fehler ist aufgetreten.")
            )
        return secure(response)

    return wrapper


def page_route(fn: Callable[..., Response]) -> Callable[..., Response]:
    @wraps(fn)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        request.max_content_length = self.app.settings.max_body_bytes
        page = pages.Page(request, self.app.settings)
        try:
            response = fn(self, page, *args, **kwargs)
        except ApiError as exc:
            response = pages.error_page(page, exc)
        except ValidationError as exc:
            response = pages.error_page(page, invalid(exc))
        except Exception as exc:  # includes werkzeug's 413 for oversized forms
            code = getattr(exc, "code", 500)
            if code == 413:
                response = pages.error_page(page, ApiError(
                    "PAYLOAD_TOO_LARGE", "Die Eingabe ist zu groß."))
            else:
                log.exception("unexpected error in %s", request.path)
                response = pages.error_page(page, ApiError(
                    "INTERNAL_ERROR", "Ein unerwarteter Fehler ist aufgetreten."))
        return secure(response)

    return wrapper
