"""The base of every server-rendered page: language, CSRF, rendering, the error page.

Pages are German first, usable without JavaScript and take nothing from third parties.
"""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.adapters.identity_config import identity_config
from services.gateway.texts import environment, text
from services.gateway.web.bot_guard import form_stamp, looks_automated
from services.gateway.web.errors import ApiError
from services.gateway.web.permissions import Principal, principal_from_request
from soesmart.config import Settings
from soesmart.i18n import LANGUAGES
from soesmart.secrets_compare import same_secret
from soesmart.towns import towns


def content_security_policy(image_origins: tuple[str, ...] = ()) -> str:
    """Everything from this site only; a map's configured background adds its one host."""
    images = " ".join(("'self'", "data:", *image_origins))
    return (f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


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

    def looks_automated(self) -> bool:
        """Whether the submitted form shows a bot (honeypot, fill time, proof of work)."""
        return looks_automated(self.request.form, self.settings)

    def t(self, key: str, n: int | None = None, **kwargs: Any) -> str:
        """The text `key` in the page's language; with `n` the form for that count (1 Meldung)."""
        return text(key, self.lang, n, **kwargs)

    def render(self, template: str, status: int = 200, image_origins: tuple[str, ...] = (),
               **context: Any) -> Response:
        """The template as the page; `image_origins`: hosts a map's background comes from."""
        other = "en" if self.lang == "de" else "de"
        html = environment(self.lang).get_template(template).render(
            lang=self.lang, t=self.t, csrf=self.csrf, other_lang=other,
            lang_url=f"{self.request.path}?lang={other}", towns=list(towns()),
            form_stamp=form_stamp(self.settings), **context,
        )
        response = Response(html, status=status, content_type="text/html; charset=utf-8")
        if image_origins:
            response.headers["Content-Security-Policy"] = content_security_policy(
                tuple(dict.fromkeys(image_origins)))
        return self.finish(response)

    def redirect(self, location: str) -> Response:
        return self.finish(Response("", status=303, headers={"Location": location}))

    def finish(self, response: Response) -> Response:
        origins = identity_config(self.settings).staff_origins()
        if origins:  # a staff member's sign-out form leads on to their provider's end-session
            from services.gateway.web.routing import SECURITY_HEADERS

            policy = SECURITY_HEADERS["Content-Security-Policy"]
            response.headers["Content-Security-Policy"] = policy.replace(
                "form-action 'self'", "form-action 'self' " + " ".join(origins))
        secure = self.settings.public_url.startswith("https://")
        year = 365 * 24 * 3600
        if self.new_csrf:
            response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="Lax", secure=secure)
        if self.set_lang:
            response.set_cookie(LANG_COOKIE, self.set_lang, max_age=year, httponly=True,
                                samesite="Lax", secure=secure)
        return response


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
