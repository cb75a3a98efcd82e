"""Pages of the staff: the sign-in form, signing out, the landing page and a town's staff area.

Signing in here asks the same use case as the token API (`staff.api.sign_in`), so
failed attempts count together and the lockout holds whichever door is used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from services.gateway.adapters.identity_config import identity_config
from services.gateway.service_layer.staff import PAGE
from services.gateway.staff.api import sign_in
from services.gateway.web.backend import town_or_404
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from services.gateway.web.permissions import STAFF_COOKIE, Principal, can, require
from soesmart.config import Settings
from soesmart.towns import towns

STAFF_HOME = "/verwaltung"


SIGN_IN_PAGE = "/verwaltung/anmelden"


def cookie_options(settings: Settings) -> dict[str, Any]:
    return {"httponly": True, "samesite": "Lax", "path": "/",
            "secure": settings.public_url.startswith("https://")}


def next_page(value: str | None) -> str:
    """Where to go after signing in: a staff page of ours, never another site."""
    if value and value.startswith(STAFF_HOME) and "//" not in value and "\\" not in value:
        return value
    return STAFF_HOME


def sign_in_first(page: Page) -> Response:
    """A stranger on a staff page is sent to the sign-in form, and back after it."""
    target = page.request.full_path.rstrip("?")
    return page.redirect(f"{SIGN_IN_PAGE}?{urlencode({'weiter': target})}")


def sign_in_page(page: Page, errors: list[dict[str, str]] | None = None, email: str = "",
                 status: int = 200) -> Response:
    notice = page.t("staff_signed_out") if page.request.args.get("abgemeldet") else None
    weiter = next_page(page.request.form.get("weiter") or page.request.args.get("weiter"))
    config = identity_config(page.settings)
    providers = [{"href": f"/verwaltung/anmelden/idp/{p.id}?{urlencode({'weiter': weiter})}",
                  "name": p.name} for p in config.staff_providers()]
    response = page.render("staff_sign_in.html", status=status, errors=errors or [],
                           email=email, notice=notice, weiter=weiter, providers=providers,
                           password=config.password_anywhere)
    response.headers["Cache-Control"] = "no-store"
    return response


def sign_in_form(page: Page) -> Response:
    page.check_csrf()
    form = page.request.form
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not email or not password or len(email) > 254 or len(password) > 1024:
        return sign_in_page(page, [{"field": "email" if not email else "password",
                                    "label": page.t("email" if not email else "staff_password"),
                                    "problem": page.t("staff_fill_in")}], email, 422)
    try:
        signed = sign_in(page.settings, page.request, email, password, PAGE)
    except ApiError as exc:
        problem = {"INVALID_CREDENTIALS": page.t("staff_invalid"),
                   "PASSWORD_SIGN_IN_OFF": page.t("staff_password_off")}.get(exc.code, exc.message)
        response = sign_in_page(page, [{"field": "email", "label": page.t("email"),
                                        "problem": problem}], email, exc.status)
        if exc.code == "ACCOUNT_LOCKED":
            response.headers["Retry-After"] = str(exc.details[0]["retry_after"])
        return response
    response = page.redirect(next_page(form.get("weiter")))
    set_staff_cookie(page, response, signed.token)
    return response


def set_staff_cookie(page: Page, response: Response, token: str) -> None:
    response.set_cookie(STAFF_COOKIE, token, max_age=int(page.settings.staff_session_hours * 3600),
                        **cookie_options(page.settings))


def end_staff_cookie(page: Page, response: Response) -> None:
    response.delete_cookie(STAFF_COOKIE, **cookie_options(page.settings))


def staff_home(page: Page) -> Response:
    if page.principal.role == "anonymous":
        return sign_in_first(page)
    principal = require(page.principal, "staff.area")
    if principal.role == "town_admin":
        own = [town_or_404(principal.town or "")]
    else:
        own = list(towns())
    region = []
    if can(principal, "catalogue.write"):
        region.append({"href": f"{STAFF_HOME}/region/katalog", "text": page.t("staff_catalogue")})
    if can(principal, "regional_results.read"):
        region.append({"href": f"{STAFF_HOME}/region/ergebnisse",
                       "text": page.t("staff_regional_results")})
    if can(principal, "deliveries.read"):
        region.append({"href": f"{STAFF_HOME}/region/zustellungen",
                       "text": page.t("staff_deliveries")})
    return page.render("staff_home.html", principal=principal, role_text=role_text(page, principal),
                       staff_towns=own, region=region, sections=town_sections(page, principal))


def town_sections(page: Page, principal: Principal) -> dict[str, list[dict[str, str]]]:
    """The links of one town's staff area, by what the principal may do there."""
    sections: dict[str, list[dict[str, str]]] = {}
    for t in towns():
        if not can(principal, "town.overview", t.slug):
            continue
        base = f"{STAFF_HOME}/stadt/{t.slug}"
        links = []
        if can(principal, "consultation.manage", t.slug):
            links.append({"href": f"{base}/beteiligungen", "text": page.t("staff_consultations")})
        if can(principal, "moderation", t.slug):
            links.append({"href": f"{base}/moderation", "text": page.t("staff_moderation")})
        if can(principal, "idea.decide", t.slug):
            links.append({"href": f"{base}/ideen", "text": page.t("staff_ideas")})
        if can(principal, "town_results.read", t.slug):
            links.append({"href": f"{base}/ergebnisse", "text": page.t("staff_town_results")})
        sections[t.slug] = links
    return sections


def staff_town(page: Page, town: str) -> Response:
    t = town_or_404(town)
    if page.principal.role == "anonymous":
        return sign_in_first(page)
    principal = require(page.principal, "town.overview", t.slug)
    return page.render("staff_town.html", principal=principal, role_text=role_text(page, principal),
                       staff_town=t, links=town_sections(page, principal)[t.slug])


def role_text(page: Page, principal: Principal) -> str:
    if principal.role == "town_admin":
        return page.t("staff_role_town_admin", town=town_or_404(principal.town or "").name)
    return page.t("staff_role_coordinator")
