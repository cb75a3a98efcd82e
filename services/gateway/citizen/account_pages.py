"""Pages of a citizen's account in a town: register, confirm, sign in by link, sign out, my data.

Forms come back with the entered values and an error summary that links to each
field, instead of a separate error page (WCAG 3.3.1, 3.3.3).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.citizen import personal_data
from services.gateway.citizen.identity_pages import buttons
from services.gateway.citizen.pages import account_context, field_errors, flash, require_citizen
from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.citizen_sessions import end_citizen_session, issue_citizen_session
from services.gateway.web.clients import client_key
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from soesmart.contracts import CitizenSession
from soesmart.towns import Town

REGISTER_LABELS = {"email": "email", "postcode": "postcode", "display_name": "display_name"}


def register_page(page: Page, town: str, errors: list[dict[str, str]] | None = None,
                  values: dict[str, Any] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    return page.render("register.html", status=status, town=t, errors=errors or [],
                       values=values or {}, example=t.postcodes[0] if t.postcodes else "59494",
                       idp_buttons=buttons(page, t), **account_context(page, t))


def register_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    form = page.request.form
    values = {"email": form.get("email", "").strip(), "postcode": form.get("postcode", "").strip(),
              "display_name": form.get("display_name", ""),
              "notify_replies": form.get("notify_replies") == "1",
              "follow_rated": form.get("follow_rated") == "1"}
    command = values | {"language": page.lang, "client": client_key(page.request, page.settings)}
    try:
        # A bot gets the answer a person gets (no oracle); nothing is written for it.
        if not page.looks_automated():
            backend.call(t.service_name, "register_citizen", command=command)
    except ApiError as exc:
        if exc.code == "SERVICE_UNAVAILABLE":
            raise
        errors = field_errors(page, exc, REGISTER_LABELS)
        if exc.code == "POSTCODE_OF_OTHER_TOWN":
            errors = [{"field": "postcode", "label": page.t("postcode"), "problem": exc.message,
                       "town": str(next((d.get("town") for d in exc.details if d.get("town")), ""))}]
        return register_page(page, town, errors, values, exc.status)
    return page.render("message.html", heading=page.t("link_sent_heading"),
                       message=page.t("link_sent_text", town=t.name, email=values["email"]))


def confirm_account_page(page: Page, town: str) -> Response:
    t = town_or_404(town)
    return page.render("link.html", town=t, token=page.request.args.get("token", ""),
                       heading=page.t("confirm_account_heading"),
                       text=page.t("confirm_account_text", town=t.name),
                       button=page.t("confirm_account_button"),
                       action=f"/stadt/{t.slug}/bestaetigen", current_town=t)


def _signed_in(page: Page, t: Town, session: dict[str, Any]) -> Response:
    response = page.redirect(f"/stadt/{t.slug}?hinweis=welcome")
    issue_citizen_session(response, CitizenSession.model_validate(session), page.settings)
    return response


def confirm_account_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    session = backend.call(t.service_name, "confirm_citizen",
                           command={"token": page.request.form.get("token", "")})
    return _signed_in(page, t, session)


def sign_in_page(page: Page, town: str, errors: list[dict[str, str]] | None = None,
                 email: str = "", status: int = 200) -> Response:
    t = town_or_404(town)
    return page.render("sign_in.html", status=status, town=t, errors=errors or [], email=email,
                       idp_buttons=buttons(page, t), **account_context(page, t))


def sign_in_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    email = page.request.form.get("email", "").strip()
    try:
        if not page.looks_automated():  # a bot is answered as a person is; nothing is sent
            backend.call(t.service_name, "request_sign_in", command={
                "email": email, "client": client_key(page.request, page.settings)})
    except ApiError as exc:
        if exc.code == "SERVICE_UNAVAILABLE":
            raise
        return sign_in_page(page, town, field_errors(page, exc, {"email": "email"}), email,
                            exc.status)
    return page.render("message.html", heading=page.t("link_sent_heading"),
                       message=page.t("link_sent_text", town=t.name, email=email))


def sign_in_link_page(page: Page, town: str) -> Response:
    t = town_or_404(town)
    return page.render("link.html", town=t, token=page.request.args.get("token", ""),
                       heading=page.t("sign_in_link_heading"),
                       text=page.t("sign_in_link_text", town=t.name), button=page.t("sign_in"),
                       action=f"/stadt/{t.slug}/anmelden/link", current_town=t)


def sign_in_link_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    session = backend.call(t.service_name, "redeem_sign_in",
                           command={"token": page.request.form.get("token", "")})
    return _signed_in(page, t, session)


def sign_out_form(page: Page, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    response = page.redirect(f"/stadt/{t.slug}?hinweis=signed_out")
    end_citizen_session(response)
    return response


def my_data_page(page: Page, backend: Backend, town: str, notice: str | None = None,
                 errors: list[dict[str, str]] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    citizen_id = require_citizen(page, t, "citizen.self")
    me = backend.call(t.service_name, "get_citizen", citizen_id=str(citizen_id))
    address = personal_data.confirmed_address(me)
    held: dict[str, Any] | None = None
    if address:
        try:
            held = backend.call("notifications", "personal_data", email=address)
        except ApiError as exc:  # the town's part is shown even while the region is away
            if exc.code != "SERVICE_UNAVAILABLE":
                raise
    return page.render("my_data.html", status=status, town=t, me=me, held=held,
                       confirmed=address is not None,
                       notice=notice or flash(page), errors=errors or [],
                       **account_context(page, t))


def my_data_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = require_citizen(page, t, "citizen.self")
    form = page.request.form
    command = {"citizen_id": str(citizen_id), "display_name": form.get("display_name") or None,
               "language": form.get("language") or None,
               "notify_replies": form.get("notify_replies") == "1",
               "follow_rated": form.get("follow_rated") == "1"}
    try:
        backend.call(t.service_name, "update_citizen", command=command)
    except ApiError as exc:
        if exc.code != "VALIDATION_FAILED":
            raise
        errors = field_errors(page, exc, {"display_name": "display_name", "language": "language"})
        return my_data_page(page, backend, town, errors=errors, status=exc.status)
    return page.redirect(f"/stadt/{t.slug}/meine-daten?hinweis=settings_saved")


def my_data_download(page: Page, backend: Backend, town: str) -> Response:
    """The JSON file of everything stored about the citizen in the network."""
    t = town_or_404(town)
    citizen_id = require_citizen(page, t, "citizen.self")
    return page.finish(personal_data.download(personal_data.collect(backend, t, citizen_id), t))


def erase_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = require_citizen(page, t, "citizen.self")
    if page.request.form.get("confirm") != "1":
        errors = [{"field": "confirm", "label": page.t("erase_heading"),
                   "problem": page.t("erase_needs_confirm")}]
        return my_data_page(page, backend, town, errors=errors, status=422)
    personal_data.erase(backend, t, citizen_id)
    response = page.redirect(f"/stadt/{t.slug}?hinweis=erased")
    end_citizen_session(response)
    return response
