"""Pages for citizens of a town: take part, register, sign in by link, discuss, propose, my data.

Forms that a person fills in (registration, comments, ideas) come back with the
entered values and an error summary that links to each field, instead of a
separate error page (WCAG 3.3.1, 3.3.3).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Response

from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.clients import client_key
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from services.gateway.web.permissions import (
    Principal,
    end_citizen_session,
    issue_citizen_session,
    require,
)
from soesmart.contracts import CLIMATE_FIELDS, MOBILITY_FIELDS, CitizenSession
from soesmart.towns import Town

FLAG_REASONS = ("spam", "offensive", "off_topic", "personal_data", "other")
STATUSES = ("idea", "proposed", "in_consultation", "decided", "in_implementation", "implemented",
            "rejected")


def citizen_here(page: Page, town: Town) -> Principal | None:
    """The signed-in, confirmed citizen of this town, if it is one."""
    p = page.principal
    if p.role == "citizen" and p.town == town.slug and p.citizen_id is not None:
        return p
    return None


def _account_context(page: Page, town: Town) -> dict[str, Any]:
    p = page.principal
    other_town = None
    if p.role == "citizen" and p.town and p.town != town.slug:
        other_town = town_or_404(p.town)
    return {"citizen": citizen_here(page, town), "other_town": other_town, "current_town": town}


def _require_citizen(page: Page, town: Town, action: str) -> uuid.UUID:
    p = require(page.principal, action, town.slug)
    if p.citizen_id is None:
        raise ApiError("FORBIDDEN", "Nur Bürgerinnen und Bürger können das tun.")
    return p.citizen_id


def _field_errors(page: Page, exc: ApiError, labels: dict[str, str]) -> list[dict[str, str]]:
    """Refusal details as {field, label, problem} for the error summary of a form."""
    errors = []
    for d in exc.details:
        field = str(d.get("field", "")).split(".")[-1]
        if field in labels:
            errors.append({"field": field, "label": page.t(labels[field]),
                           "problem": str(d.get("problem", ""))})
    if not errors:
        errors.append({"field": "", "label": "", "problem": exc.message})
    return errors


# ---------------------------------------------------------------- a town's consultation


def town_page(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    consultations = backend.call(t.service_name, "open_consultations")
    field = page.request.args.get("feld") or ""
    stand = page.request.args.get("stand") or ""
    shown_total = 0
    for c in consultations:
        c["all_count"] = len(c["measures"])
        c["measures"] = [m for m in c["measures"]
                         if (not field or m["field_of_action"] == field)
                         and (not stand or m["status"] == stand)]
        shown_total += len(c["measures"])
    mine: dict[str, dict[str, Any]] = {}
    citizen = citizen_here(page, t)
    if citizen is not None:
        for r in backend.call(t.service_name, "my_ratings", citizen_id=str(citizen.citizen_id)):
            mine[r["measure_code"]] = r
    notice = None
    saved = page.request.args.get("gespeichert")
    if saved:
        titles = {m["code"]: m["title"] for c in consultations for m in c["measures"]}
        if saved in titles:
            key = "unchanged" if page.request.args.get("unveraendert") else "saved"
            notice = {"code": saved, "text": page.t(key, title=titles[saved])}
    return page.render(
        "town.html", town=t, consultations=consultations, notice=notice, mine_by_code=mine,
        fields=MOBILITY_FIELDS + CLIMATE_FIELDS, statuses=STATUSES, field=field, stand=stand,
        message=_flash(page), **_account_context(page, t),
    )


def _flash(page: Page) -> str | None:
    key = page.request.args.get("hinweis")
    allowed = {"welcome", "signed_out", "comment_saved", "flagged", "idea_saved", "settings_saved",
               "erased"}
    if key not in allowed:
        return None
    if key == "welcome":
        p = page.principal
        return page.t("welcome", name=p.name)
    return page.t(key)


def rate_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = _require_citizen(page, t, "rating.write")
    form = page.request.form
    code = form.get("measure_code", "")
    effectiveness: Any = form.get("effectiveness") or None
    if effectiveness is not None:
        try:
            effectiveness = int(effectiveness)
        except ValueError:
            pass  # the contract refuses it with a field error
    command = {"measure_code": code, "participant_id": str(citizen_id),
               "effectiveness": effectiveness, "support": form.get("support") or None,
               "reason": form.get("reason") or None}
    accepted = backend.call(t.service_name, "rate", command=command,
                            consultation_id=form.get("consultation_id") or None)
    suffix = "" if accepted["changed"] else "&unveraendert=1"
    if form.get("back") == "measure":
        return page.redirect(f"/stadt/{t.slug}/massnahmen/{quote(code)}?gespeichert=1{suffix}#bewertung")
    return page.redirect(f"/stadt/{t.slug}?gespeichert={quote(code)}{suffix}#m-{quote(code)}")


def town_measure_page(page: Page, backend: Backend, town: str, code: str,
                      comment_errors: list[dict[str, str]] | None = None,
                      values: dict[str, str] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    consultations = backend.call(t.service_name, "open_consultations")
    consultation, measure = None, None
    for c in consultations:
        for m in c["measures"]:
            if m["code"] == code:
                consultation, measure = c, m
                break
        if measure:
            break
    detail, catalogue_down = None, False
    try:
        detail = backend.call("measures", "get_measure", code=code)
    except ApiError as exc:
        if exc.code == "SERVICE_UNAVAILABLE":
            catalogue_down = True
        elif measure is None:
            raise
    if measure is None and detail is None:
        raise ApiError("MEASURE_NOT_FOUND", f"Die Maßnahme {code} gibt es nicht.")
    comments = backend.call(t.service_name, "list_comments", measure_code=code)
    mine = None
    citizen = citizen_here(page, t)
    if citizen is not None:
        for r in backend.call(t.service_name, "my_ratings", citizen_id=str(citizen.citizen_id)):
            if r["measure_code"] == code:
                mine = r
    notice = None
    if page.request.args.get("gespeichert"):
        title = (measure or detail or {}).get("title", code)
        notice = page.t("unchanged" if page.request.args.get("unveraendert") else "saved", title=title)
    return page.render(
        "town_measure.html", status=status, town=t, code=code, measure=measure or detail,
        detail=detail, consultation=consultation, catalogue_down=catalogue_down,
        comments=comments, mine=mine, notice=notice, message=_flash(page),
        comment_errors=comment_errors or [], values=values or {}, flag_reasons=FLAG_REASONS,
        **_account_context(page, t),
    )


def comment_form(page: Page, backend: Backend, town: str, code: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = _require_citizen(page, t, "comment.write")
    form = page.request.form
    command = {"citizen_id": str(citizen_id), "measure_code": code, "body": form.get("body", ""),
               "parent_id": form.get("parent_id") or None,
               "consultation_id": form.get("consultation_id") or None,
               "client": client_key(page.request, page.settings)}
    try:
        backend.call(t.service_name, "post_comment", command=command)
    except ApiError as exc:
        if exc.code not in ("VALIDATION_FAILED", "REPLY_TO_REPLY", "RATE_LIMITED"):
            raise
        errors = _field_errors(page, exc, {"body": "comment_label"})
        return town_measure_page(page, backend, town, code, comment_errors=errors,
                                 values={"body": form.get("body", ""),
                                         "parent_id": form.get("parent_id", "")},
                                 status=exc.status)
    return page.redirect(f"/stadt/{t.slug}/massnahmen/{quote(code)}?hinweis=comment_saved#diskussion")


def flag_form(page: Page, backend: Backend, town: str, comment_id: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = _require_citizen(page, t, "comment.flag")
    form = page.request.form
    command = {"citizen_id": str(citizen_id), "comment_id": comment_id,
               "reason": form.get("reason", ""), "note": form.get("note", ""),
               "client": client_key(page.request, page.settings)}
    backend.call(t.service_name, "flag_comment", command=command)
    code = form.get("measure_code", "")
    target = f"/stadt/{t.slug}/massnahmen/{quote(code)}" if code else f"/stadt/{t.slug}"
    return page.redirect(f"{target}?hinweis=flagged#diskussion")


# ---------------------------------------------------------------- registration and sign-in

REGISTER_LABELS = {"email": "email", "postcode": "postcode", "display_name": "display_name"}


def register_page(page: Page, town: str, errors: list[dict[str, str]] | None = None,
                  values: dict[str, Any] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    return page.render("register.html", status=status, town=t, errors=errors or [],
                       values=values or {}, example=t.postcodes[0] if t.postcodes else "59494",
                       **_account_context(page, t))


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
        backend.call(t.service_name, "register_citizen", command=command)
    except ApiError as exc:
        if exc.code == "SERVICE_UNAVAILABLE":
            raise
        errors = _field_errors(page, exc, REGISTER_LABELS)
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
                       **_account_context(page, t))


def sign_in_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    email = page.request.form.get("email", "").strip()
    try:
        backend.call(t.service_name, "request_sign_in",
                     command={"email": email, "client": client_key(page.request, page.settings)})
    except ApiError as exc:
        if exc.code == "SERVICE_UNAVAILABLE":
            raise
        return sign_in_page(page, town, _field_errors(page, exc, {"email": "email"}), email,
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


# ---------------------------------------------------------------- my data


def my_data_page(page: Page, backend: Backend, town: str, notice: str | None = None,
                 errors: list[dict[str, str]] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    citizen_id = _require_citizen(page, t, "citizen.self")
    me = backend.call(t.service_name, "get_citizen", citizen_id=str(citizen_id))
    return page.render("my_data.html", status=status, town=t, me=me,
                       notice=notice or _flash(page), errors=errors or [],
                       **_account_context(page, t))


def my_data_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = _require_citizen(page, t, "citizen.self")
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
        errors = _field_errors(page, exc, {"display_name": "display_name", "language": "language"})
        return my_data_page(page, backend, town, errors=errors, status=exc.status)
    return page.redirect(f"/stadt/{t.slug}/meine-daten?hinweis=settings_saved")


def erase_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = _require_citizen(page, t, "citizen.self")
    if page.request.form.get("confirm") != "1":
        errors = [{"field": "confirm", "label": page.t("erase_heading"),
                   "problem": page.t("erase_needs_confirm")}]
        return my_data_page(page, backend, town, errors=errors, status=422)
    backend.call(t.service_name, "erase_citizen", citizen_id=str(citizen_id))
    response = page.redirect(f"/stadt/{t.slug}?hinweis=erased")
    end_citizen_session(response)
    return response


# ---------------------------------------------------------------- ideas

IDEA_LABELS = {"title": "idea_title", "description": "idea_description",
               "field_of_action": "field_of_action", "place": "idea_place"}


def ideas_page(page: Page, backend: Backend, town: str, errors: list[dict[str, str]] | None = None,
               values: dict[str, str] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    ideas = backend.call(t.service_name, "list_ideas", status=None, include_hidden=False)
    return page.render("ideas.html", status=status, town=t, ideas=ideas, errors=errors or [],
                       values=values or {}, fields=MOBILITY_FIELDS + CLIMATE_FIELDS,
                       message=_flash(page), **_account_context(page, t))


def idea_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = _require_citizen(page, t, "idea.write")
    form = page.request.form
    values = {k: form.get(k, "") for k in ("title", "description", "field_of_action", "place")}
    command = {"citizen_id": str(citizen_id), "title": values["title"],
               "description": values["description"], "field_of_action": values["field_of_action"],
               "place": values["place"] or None, "client": client_key(page.request, page.settings)}
    try:
        backend.call(t.service_name, "propose_idea", command=command)
    except ApiError as exc:
        if exc.code not in ("VALIDATION_FAILED", "RATE_LIMITED"):
            raise
        return ideas_page(page, backend, town, _field_errors(page, exc, IDEA_LABELS), values,
                          exc.status)
    return page.redirect(f"/stadt/{t.slug}/ideen?{urlencode({'hinweis': 'idea_saved'})}#ideen")
