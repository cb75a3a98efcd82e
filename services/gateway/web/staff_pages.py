"""What the staff pages of town admins and coordinators share: who is signed in, forms, notices.

Forms come back with what was entered and an error summary linking to each field
(WCAG 3.3.1, 3.3.3) instead of a separate error page; a successful POST redirects
(303) to a page that says what happened in a status region (`?erledigt=<notice>`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Response

from services.gateway.web.backend import validation_details
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from services.gateway.web.permissions import Principal, principal_from_request, require
from soesmart.i18n import format_date

SIGN_IN = "/verwaltung/anmelden"


NOTICES = {"created", "updated", "open", "closed", "results_published", "moderated", "decided",
           "status_changed"}


class SignInRequired(Exception):
    """Nobody is signed in: the page shows the way to the staff sign-in."""


def staff(page: Page, action: str, town: str | None = None) -> Principal:
    """The signed-in staff member if they may do `action`; anonymous people sign in first."""
    principal = principal_from_request(page.request, page.settings)
    if principal.role == "anonymous":
        raise SignInRequired()
    return require(principal, action, town)


def sign_in_needed(page: Page) -> Response:
    """401 with the way to the staff sign-in (and back here afterwards, where supported)."""
    target = page.request.path
    if page.request.query_string:
        target += "?" + page.request.query_string.decode("latin-1")
    return page.render("admin/sign_in_needed.html", status=401,
                       sign_in=f"{SIGN_IN}?{urlencode({'weiter': target})}")


def render(page: Page, template: str, who: Principal, status: int = 200,
            **context: Any) -> Response:
    notice = page.request.args.get("erledigt")
    return page.render(template, status=status, who=who,
                       notice=page.t(f"adm_done_{notice}") if notice in NOTICES else None,
                       **context)


def form_errors(page: Page, details: Iterable[dict[str, Any]], fields: dict[str, str],
                prefix: str = "") -> list[dict[str, str]]:
    """Refusal details as an error summary: each names its field and links to its input.

    `fields` maps a contract field to the id of its input; problems without a known
    field (a rule over several fields) go to `fields[""]`.
    """
    errors: list[dict[str, str]] = []
    for d in details:
        name = str(d.get("field", "")).split(".")[0]
        if name in ("body", "__root__"):
            name = ""
        if name not in fields:
            name = ""
        key = f"adm_err_{name or 'general'}"
        problem = page.t(key) if page.t(key) != key else str(d.get("problem", ""))
        if name == "" and d.get("problem"):
            problem = str(d["problem"]).removeprefix("Value error, ")
        target = fields.get(name, "")
        entry = {"field": prefix + target if target else "", "name": name,
                 "label": page.t(f"adm_field_{name}") if name else "", "problem": problem}
        if entry not in errors:
            errors.append(entry)
    return errors


def validated(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                       validation_details(exc)) from None


def errors_of(exc: ApiError) -> list[dict[str, Any]]:
    return exc.details or [{"field": "", "problem": exc.message}]


def short_day(iso: str, lang: str) -> str:
    return format_date(iso[:10], lang, "day_month")


def int_arg(page: Page, name: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(page.request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, lo), hi)


def staff_page(fn: Callable[..., Response]) -> Callable[..., Response]:
    """Between `page_route` and the route: nobody signed in gets 401 and the way to sign in."""
    @wraps(fn)
    def wrapper(self: Any, page: Page, *args: Any, **kwargs: Any) -> Response:
        try:
            response = fn(self, page, *args, **kwargs)
        except SignInRequired:
            response = sign_in_needed(page)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return wrapper
