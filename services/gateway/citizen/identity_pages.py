"""Citizens sign in with a verified identity ("Mit ServiceKonto anmelden"): start and callback.

The provider's verified postcode (or municipality) says where the person lives: a
resident of this town is signed in (and may rate at once when the provider vouches for
the email address); a resident of another town is pointed to it; nothing is created for
either refusal. The town's instance receives only a keyed hash of the provider's subject.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.adapters.identity_config import identity_config
from services.gateway.domain.identity import (
    ProviderConfig,
    SignInRefused,
    subject_hash,
    text_claim,
)
from services.gateway.service_layer import oidc_sign_in
from services.gateway.service_layer.staff import staff_accounts_for
from services.gateway.web import idp
from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.citizen_sessions import issue_citizen_session
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from soesmart.config import Settings
from soesmart.contracts import CitizenSession
from soesmart.towns import Town, towns

DECIDED_HERE = {"other_town", "not_resident", "no_residence", "no_email"}


def start_path(town: str, provider_id: str) -> str:
    return f"/stadt/{town}/anmelden/idp/{provider_id}"


def buttons(page: Page, town: Town) -> list[dict[str, str]]:
    """The "Mit … anmelden" links a town's sign-in and registration pages show."""
    return [{"href": start_path(town.slug, p.id), "text": page.t("idp_citizen_sign_in", name=p.name)}
            for p in identity_config(page.settings).citizen_providers(town.slug)]


def _provider_of_town(page: Page, town: Town, provider_id: str) -> ProviderConfig:
    provider = idp.provider_or_404(page.settings, provider_id, "citizens")
    if town.slug not in provider.towns:
        raise ApiError("NOT_FOUND", "Diesen Anmeldedienst gibt es hier nicht.")
    return provider


def start(page: Page, town: str, provider_id: str) -> Response:
    t = town_or_404(town)
    provider = _provider_of_town(page, t, provider_id)
    try:
        url, state = oidc_sign_in.begin(staff_accounts_for(page.settings), provider,
                                        f"/stadt/{t.slug}", town=t.slug)
    except SignInRefused as exc:
        return idp.refused_page(page, exc, again=start_path(t.slug, provider.id), town=t)
    return idp.to_provider(page, url, state)


def residence(provider: ProviderConfig, claims: dict[str, Any]) -> tuple[Town, str | None]:
    """The town the verified claims place the person in, and their postcode if stated."""
    postcode = text_claim(claims, provider.postcode_claim, 10)
    if postcode is not None:
        found = towns().for_postcode(postcode)
        if found is None:
            raise SignInRefused("not_resident", 403)
        return found, postcode
    municipality = (text_claim(claims, provider.municipality_claim) or "").casefold()
    if not municipality:
        raise SignInRefused("no_residence", 403)
    for t in towns():
        if municipality in (t.slug.casefold(), t.name.casefold(), t.name.split(" (")[0].casefold()):
            return t, None
    raise SignInRefused("not_resident", 403)


def _command(settings: Settings, provider: ProviderConfig, claims: dict[str, Any],
             postcode: str | None, lang: str) -> dict[str, Any]:
    email = text_claim(claims, "email", 320)
    if email is None:
        raise SignInRefused("no_email")
    key = settings.subject_hash_key or settings.secret_key + ":subject-hash"
    trust = text_claim(claims, provider.trust_claim, 60)
    return {"subject_hash": subject_hash(key, provider.issuer, str(claims["sub"])),
            "email": email, "email_verified": claims.get("email_verified") in (True, "true"),
            "postcode": postcode, "trust_level": trust, "language": lang}


def callback(page: Page, backend: Backend, provider_id: str) -> Response:
    provider = idp.provider_or_404(page.settings, provider_id, "citizens")
    store = staff_accounts_for(page.settings)
    started: Town | None = None
    try:
        completed = oidc_sign_in.complete(store, provider, dict(page.request.args),
                                          idp.browser_state(page))
        started = town_or_404(completed.town or "")
        home, postcode = residence(provider, completed.claims)
        if home.slug != started.slug:
            raise SignInRefused("other_town", 403)
        command = _command(page.settings, provider, completed.claims, postcode, page.lang)
        session = backend.call(started.service_name, "sign_in_verified", command=command)
    except SignInRefused as exc:
        if exc.reason in DECIDED_HERE:  # the others were logged where they were raised
            oidc_sign_in.refused(provider, exc)
        again = start_path(started.slug, provider.id) if started else None
        if exc.reason == "other_town":
            return idp.refused_page(page, exc, again=None, town=started, other_town=home.name,
                                    other_town_href=f"/stadt/{home.slug}")
        return idp.refused_page(page, exc, again=again, town=started)
    except ApiError as exc:
        if exc.code == "SERVICE_UNAVAILABLE" or started is None:
            raise
        oidc_sign_in.refused(provider, SignInRefused("town_" + exc.code.lower()))
        return idp.done(page, page.render("message.html", status=exc.status,
                                          heading=page.t("idp_err_heading"), message=exc.message,
                                          is_error=True))
    response = page.redirect(f"{completed.next_url}?hinweis=welcome")
    issue_citizen_session(response, CitizenSession.model_validate(session), page.settings)
    return idp.done(page, response)
