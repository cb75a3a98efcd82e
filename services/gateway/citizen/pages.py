"""Pages for citizens of a town: take part, discuss, propose ideas.

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
from services.gateway.web.maps import map_view
from services.gateway.web.page import Page
from services.gateway.web.permissions import (
    Principal,
    require,
)
from soesmart.contracts import CLIMATE_FIELDS, MOBILITY_FIELDS
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


def account_context(page: Page, town: Town) -> dict[str, Any]:
    p = page.principal
    other_town = None
    if p.role == "citizen" and p.town and p.town != town.slug:
        other_town = town_or_404(p.town)
    return {"citizen": citizen_here(page, town), "other_town": other_town, "current_town": town}


def require_citizen(page: Page, town: Town, action: str) -> uuid.UUID:
    p = require(page.principal, action, town.slug)
    if p.citizen_id is None:
        raise ApiError("FORBIDDEN", "Nur Bürgerinnen und Bürger können das tun.")
    return p.citizen_id


def field_errors(page: Page, exc: ApiError, labels: dict[str, str]) -> list[dict[str, str]]:
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


def flash(page: Page) -> str | None:
    key = page.request.args.get("hinweis")
    allowed = {"welcome", "signed_out", "comment_saved", "flagged", "idea_saved", "settings_saved",
               "erased"}
    if key not in allowed:
        return None
    if key == "welcome":
        p = page.principal
        return page.t("welcome", name=p.name)
    return page.t(key)


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
    for c in consultations:
        c["map"] = map_view(f"karte-{c['id'][:8]}", page.t("map_of_consultation"), c["measures"],
                            lambda m: f"/stadt/{t.slug}/massnahmen/{quote(m['code'])}",
                            page.t, page.lang, town=t.slug)
    published = [c for c in backend.call(t.service_name, "list_consultations")
                 if c["status"] == "results_published"]
    origins = tuple(c["map"].image_origin for c in consultations
                    if c["map"] and c["map"].image_origin)
    return page.render(
        "town.html", image_origins=origins, published=published,
        town=t, consultations=consultations, notice=notice, mine_by_code=mine,
        fields=MOBILITY_FIELDS + CLIMATE_FIELDS, statuses=STATUSES, field=field, stand=stand,
        message=flash(page), **account_context(page, t),
    )


def _origin(view: Any) -> tuple[str, ...]:
    return (view.image_origin,) if view is not None and view.image_origin else ()


def rate_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = require_citizen(page, t, "rating.write")
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
    shown = measure or detail or {}
    if detail and detail.get("geometry"):
        shown = {**shown, "geometry": detail["geometry"]}  # the catalogue's, if newer
    place = map_view("karte", page.t("map_of_measure"), [shown], lambda m: "#karte-liste",
                     page.t, page.lang, town=t.slug, boundary_alone=False)
    return page.render(
        "town_measure.html", status=status, image_origins=_origin(place), place_map=place,
        town=t, code=code, measure=measure or detail,
        detail=detail, consultation=consultation, catalogue_down=catalogue_down,
        comments=comments, mine=mine, notice=notice, message=flash(page),
        comment_errors=comment_errors or [], values=values or {}, flag_reasons=FLAG_REASONS,
        **account_context(page, t),
    )


def comment_form(page: Page, backend: Backend, town: str, code: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = require_citizen(page, t, "comment.write")
    form = page.request.form
    command = {"citizen_id": str(citizen_id), "measure_code": code, "body": form.get("body", ""),
               "parent_id": form.get("parent_id") or None,
               "consultation_id": form.get("consultation_id") or None,
               "client": client_key(page.request, page.settings)}
    try:
        if not page.looks_automated():  # a bot is answered as if saved; nothing is written
            backend.call(t.service_name, "post_comment", command=command)
    except ApiError as exc:
        if exc.code not in ("VALIDATION_FAILED", "REPLY_TO_REPLY", "RATE_LIMITED"):
            raise
        errors = field_errors(page, exc, {"body": "comment_label"})
        return town_measure_page(page, backend, town, code, comment_errors=errors,
                                 values={"body": form.get("body", ""),
                                         "parent_id": form.get("parent_id", "")},
                                 status=exc.status)
    return page.redirect(f"/stadt/{t.slug}/massnahmen/{quote(code)}?hinweis=comment_saved#diskussion")


def flag_form(page: Page, backend: Backend, town: str, comment_id: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = require_citizen(page, t, "comment.flag")
    form = page.request.form
    command = {"citizen_id": str(citizen_id), "comment_id": comment_id,
               "reason": form.get("reason", ""), "note": form.get("note", ""),
               "client": client_key(page.request, page.settings)}
    backend.call(t.service_name, "flag_comment", command=command)
    code = form.get("measure_code", "")
    target = f"/stadt/{t.slug}/massnahmen/{quote(code)}" if code else f"/stadt/{t.slug}"
    return page.redirect(f"{target}?hinweis=flagged#diskussion")


IDEA_LABELS = {"title": "idea_title", "description": "idea_description",
               "field_of_action": "field_of_action", "place": "idea_place"}


def ideas_page(page: Page, backend: Backend, town: str, errors: list[dict[str, str]] | None = None,
               values: dict[str, str] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    ideas = backend.call(t.service_name, "list_ideas", status=None, include_hidden=False)
    return page.render("ideas.html", status=status, town=t, ideas=ideas, errors=errors or [],
                       values=values or {}, fields=MOBILITY_FIELDS + CLIMATE_FIELDS,
                       message=flash(page), **account_context(page, t))


def idea_form(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    page.check_csrf()
    citizen_id = require_citizen(page, t, "idea.write")
    form = page.request.form
    values = {k: form.get(k, "") for k in ("title", "description", "field_of_action", "place")}
    command = {"citizen_id": str(citizen_id), "title": values["title"],
               "description": values["description"], "field_of_action": values["field_of_action"],
               "place": values["place"] or None, "client": client_key(page.request, page.settings)}
    try:
        if not page.looks_automated():  # a bot is answered as if saved; nothing is written
            backend.call(t.service_name, "propose_idea", command=command)
    except ApiError as exc:
        if exc.code not in ("VALIDATION_FAILED", "RATE_LIMITED"):
            raise
        return ideas_page(page, backend, town, field_errors(page, exc, IDEA_LABELS), values,
                          exc.status)
    return page.redirect(f"/stadt/{t.slug}/ideen?{urlencode({'hinweis': 'idea_saved'})}#ideen")
