"""How a gateway route is declared: one place for errors, security headers and API metadata.

`api(...)` declares a JSON route together with its OpenAPI `Operation` (body, answer,
who may call it); `page(...)` a server-rendered page; `staff_page(...)` a page of the
staff, which answers anonymous visitors with 401 and the way to the sign-in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from nameko.web.handlers import http
from pydantic import ValidationError
from werkzeug.wrappers import Request, Response

from services.gateway.web import page as pages
from services.gateway.web import staff_pages
from services.gateway.web.backend import BROKER_LOST, broker_lost, validation_details
from services.gateway.web.errors import ApiError, error_response
from services.gateway.web.openapi import OPERATION_ATTRIBUTE, Operation

log = logging.getLogger("services.gateway.entrypoints.service")

SECURITY_HEADERS = {
    "Content-Security-Policy": pages.content_security_policy(),
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
        except BROKER_LOST as exc:  # not through Backend.call: still "try again", never 500
            response = error_response(broker_lost(exc))
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
        except BROKER_LOST as exc:
            response = pages.error_page(page, broker_lost(exc))
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


Route = TypeVar("Route", bound=Callable[..., Response])


def api(method: str, url: str, summary: str, tag: str, **operation: Any) -> Callable[[Route], Route]:
    """A JSON route, documented in /api/openapi.json by `Operation(summary, tag, **operation)`."""
    described = Operation(summary, tag, **operation)

    def declare(fn: Route) -> Route:
        route = json_route(fn)
        setattr(route, OPERATION_ATTRIBUTE, described)
        return http(method, url)(route)  # type: ignore[no-any-return]

    return declare


def json_only(method: str, url: str) -> Callable[[Route], Route]:
    """A JSON route that is not an operation of the API (the document itself, the JSON 404)."""
    def declare(fn: Route) -> Route:
        return http(method, url)(json_route(fn))  # type: ignore[no-any-return]

    return declare


def page(method: str, url: str) -> Callable[[Route], Route]:
    """A server-rendered page; the route receives the request's `Page`."""
    def declare(fn: Route) -> Route:
        return http(method, url)(page_route(fn))  # type: ignore[no-any-return]

    return declare


def staff_page(method: str, url: str) -> Callable[[Route], Route]:
    """A page of the staff: anonymous visitors get 401 and the way to sign in; never cached."""
    def declare(fn: Route) -> Route:
        return http(method, url)(page_route(staff_pages.staff_page(fn)))  # type: ignore[no-any-return]

    return declare
