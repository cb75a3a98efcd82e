"""Public pages: the home page, a measure of the catalogue, mail subscriptions and their links."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.public.api import do_subscribe, subscription_command
from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.errors import ApiError
from services.gateway.web.maps import map_view
from services.gateway.web.page import Page
from soesmart.i18n import LANGUAGES, label


def home(page: Page) -> Response:
    return page.render("home.html")


def measure_page(page: Page, backend: Backend, code: str) -> Response:
    """A measure's fact sheet: its place on the map and its story as a timeline."""
    measure = backend.call("measures", "get_measure", code=code)
    place = map_view("karte", page.t("map_of_measure"), [measure], lambda m: "#karte-liste",
                     page.t, page.lang, boundary_alone=False)
    origins = (place.image_origin,) if place is not None and place.image_origin else ()
    return page.render("measure.html", image_origins=origins, measure=measure, place_map=place,
                       story=timeline(measure))


def timeline(measure: dict[str, Any]) -> list[dict[str, Any]]:
    """Status changes and the consultations that asked about the measure, oldest first."""
    entries = [{"kind": "status", "when": h["changed_at"], **h} for h in measure.get("history", [])]
    for asked in measure.get("asked_in", []):
        entries.append({"kind": "asked", "when": asked["opened_at"] or asked["starts_on"],
                        "town_name": _town_name(asked["town"]), **asked})
    return sorted(entries, key=lambda e: str(e["when"]))


def _town_name(slug: str) -> str:
    try:
        return town_or_404(slug).name
    except ApiError:
        return slug


def subscribe_form(page: Page, backend: Backend) -> Response:
    page.check_csrf()
    form = page.request.form
    # `scope` is "<type>:<value>" (radio buttons on the measure page, hidden on a town page);
    # a bare `measure_code` is what the first version of the form sent.
    scope_type, _, scope_value = form.get("scope", "").partition(":")
    data = {"email": form.get("email", ""), "language": page.lang,
            "frequency": form.get("frequency") or None,
            "scope_type": scope_type or None, "scope_value": scope_value or None,
            "measure_code": None if scope_type else form.get("measure_code") or None}
    try:
        cmd = subscription_command(data)
    except ApiError as exc:
        if any(d.get("field") == "email" for d in exc.details):
            exc.message = page.t("email_invalid")
        raise
    if not page.looks_automated():  # a bot is answered as a person is; nothing is written
        do_subscribe(backend, cmd)
    return page.render("message.html", heading=page.t("check_inbox"),
                       message=page.t("check_inbox_text"))


def confirm_page(page: Page) -> Response:
    token = page.request.args.get("token", "")
    return page.render("confirm.html", token=token)


def confirm_form(page: Page, backend: Backend) -> Response:
    page.check_csrf()
    backend.call("notifications", "confirm", command={"token": page.request.form.get("token", "")})
    return page.render("message.html", heading=page.t("confirm_heading"),
                       message=page.t("confirmed"))


def unsubscribe_page(page: Page) -> Response:
    return page.render("unsubscribe.html", token=page.request.args.get("token", ""))


def unsubscribe_form(page: Page, backend: Backend) -> Response:
    page.check_csrf()
    ended = backend.call("notifications", "unsubscribe", token=page.request.form.get("token", ""))
    key = "unsubscribed_all" if ended.get("scope_type") == "all" else "unsubscribed"
    return page.render("message.html", heading=page.t("unsub_heading"), message=page.t(key))


def _scope_label(page: Page, scope_type: str, scope_value: str) -> str:
    if scope_type == "town":
        return page.t("scope_town", name=town_or_404(scope_value).name)
    if scope_type == "field_of_action":
        return page.t("scope_field", name=label("field_of_action", scope_value, page.lang))
    if scope_type == "region":
        return page.t("scope_region")
    return page.t("scope_measure", code=scope_value)


def _render_preferences(page: Page, token: str, prefs: dict[str, Any],
                        notice: str | None = None) -> Response:
    subs = [dict(s, label=_scope_label(page, s["scope_type"], s["scope_value"]))
            for s in prefs["subscriptions"]]
    return page.render("preferences.html", token=token, prefs=prefs, subs=subs, notice=notice)


def preferences_page(page: Page, backend: Backend) -> Response:
    """Reached by the signed link in every mail; an unknown or tampered link shows why."""
    token = page.request.args.get("token", "")
    return _render_preferences(page, token,
                               backend.call("notifications", "preferences", token=token))


def preferences_form(page: Page, backend: Backend) -> Response:
    page.check_csrf()
    form = page.request.form
    token = form.get("token", "")
    action = form.get("action", "save")
    command: dict[str, Any] = {"token": token, "unsubscribe_all": action == "unsubscribe_all"}
    if form.get("language") in LANGUAGES:
        command["language"] = form["language"]
    command["frequencies"] = {key[len("freq-"):]: value for key, value in form.items()
                              if key.startswith("freq-")}
    command["unsubscribe"] = form.getlist("unsubscribe")
    prefs = backend.call("notifications", "update_preferences", command=command)
    notice = page.t("prefs_all_ended") if not prefs["subscriptions"] else page.t("prefs_saved")
    return _render_preferences(page, token, prefs, notice)
