"""Server-rendered pages: German first, usable without JavaScript, nothing from third parties."""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.public.api import do_subscribe, subscription_command
from services.gateway.texts import environment, text
from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.errors import ApiError
from services.gateway.web.permissions import Principal, principal_from_request
from soesmart.config import Settings
from soesmart.i18n import LANGUAGES, label
from soesmart.secrets_compare import same_secret
from soesmart.towns import towns

CSRF_COOKIE = "soesmart_csrf"
LANG_COOKIE = "soesmart_lang"


class Page:
    """Per-request page context: language, CSRF token, who is signed in."""

    def __init__(self, request: Request, settings: Settings) -> None:
        self.request = request
        self.settings = settings
        wanted = request.args.get("lang")
        self.set_lang = wanted if wanted in LANGUAGES else None
        self.lang = self.set_lang or request.cookies.get(LANG_COOKIE, "de")
        if self.lang not in LANGUAGES:
            self.lang = "de"
        self.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        self.new_csrf = CSRF_COOKIE not in request.cookies

    @property
    def principal(self) -> Principal:
        """Who is signed in (looked up on first use, once per request)."""
        return principal_from_request(self.request, self.settings)

    def check_csrf(self) -> None:
        sent = self.request.form.get("csrf", "")
        cookie = self.request.cookies.get(CSRF_COOKIE, "")
        if not same_secret(sent, cookie):
            raise ApiError(
                "CSRF_FAILED",
                "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und senden Sie es "
                "noch einmal.",
            )

    def t(self, key: str, n: int | None = None, **kwargs: Any) -> str:
        """The text `key` in the page's language; with `n` the form for that count (1 Meldung)."""
        return text(key, self.lang, n, **kwargs)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        other = "en" if self.lang == "de" else "de"
        html = environment(self.lang).get_template(template).render(
            lang=self.lang, t=self.t, csrf=self.csrf, other_lang=other,
            lang_url=f"{self.request.path}?lang={other}", towns=list(towns()), **context,
        )
        return self.finish(Response(html, status=status, content_type="text/html; charset=utf-8"))

    def redirect(self, location: str) -> Response:
        return self.finish(Response("", status=303, headers={"Location": location}))

    def finish(self, response: Response) -> Response:
        secure = self.settings.public_url.startswith("https://")
        year = 365 * 24 * 3600
        if self.new_csrf:
            response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="Lax", secure=secure)
        if self.set_lang:
            response.set_cookie(LANG_COOKIE, self.set_lang, max_age=year, httponly=True,
                                samesite="Lax", secure=secure)
        return response


def home(page: Page) -> Response:
    return page.render("home.html")


def measure_page(page: Page, backend: Backend, code: str) -> Response:
    measure = backend.call("measures", "get_measure", code=code)
    return page.render("measure.html", measure=measure)


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


# Field names of the wire contracts as a person reads them on a form.
FIELD_TEXT = {
    "effectiveness": "q_effective",
    "support": "q_support",
    "reason": "reason",
    "email": "email",
}


def _same_site_referrer(page: Page) -> str | None:
    """Where the person came from, if it was one of our pages (for a "back" link)."""
    ref = page.request.referrer or ""
    host = page.request.host_url
    if ref.startswith(host) and not ref.startswith(host + "api/"):
        return "/" + ref[len(host):]
    return None


def error_page(page: Page, exc: ApiError) -> Response:
    message = exc.message or page.t("not_found") if exc.status == 404 else exc.message
    fields = []
    for d in exc.details:
        key = FIELD_TEXT.get(str(d.get("field", "")))
        if key and page.t(key) not in fields:
            fields.append(page.t(key))
    return page.render("message.html", status=exc.status, heading=page.t("error_heading"),
                       message=message, fields=fields, back=_same_site_referrer(page),
                       is_error=True)
