"""Texts of the staff pages (sign-in, overview), German first, English second."""

from __future__ import annotations

STAFF_TEXTS: dict[str, dict[str, str]] = {
    "staff_area": {"de": "Verwaltung", "en": "Staff area"},
    "staff_footer_link": {"de": "Anmeldung für die Verwaltung", "en": "Sign-in for staff"},
    "staff_sign_in_heading": {"de": "Anmeldung für die Verwaltung", "en": "Staff sign-in"},
    "staff_sign_in_intro": {
        "de": "Für Mitarbeitende der Städte und der regionalen Koordination. Bürgerinnen und Bürger "
        "melden sich auf der Seite ihrer Stadt an.",
        "en": "For staff of the towns and of the regional coordination. Citizens sign in on their "
        "town's page.",
    },
    "staff_password": {"de": "Passwort", "en": "Password"},
    "staff_sign_in_button": {"de": "Anmelden", "en": "Sign in"},
    "staff_sign_out": {"de": "Abmelden", "en": "Sign out"},
    "staff_signed_out": {"de": "Sie sind abgemeldet.", "en": "You are signed out."},
    "staff_fill_in": {"de": "Bitte ausfüllen.", "en": "Please fill in."},
    "staff_invalid": {"de": "E-Mail-Adresse oder Passwort stimmen nicht.",
                      "en": "Email address or password is not correct."},
    "staff_home_heading": {"de": "Verwaltung", "en": "Staff area"},
    "staff_signed_in_as": {"de": "Angemeldet als {name} ({role}).", "en": "Signed in as {name} ({role})."},
    "staff_role_town_admin": {"de": "Verwaltung von {town}", "en": "administration of {town}"},
    "staff_role_coordinator": {"de": "regionale Koordination", "en": "regional coordination"},
    "staff_region_heading": {"de": "Region Südwestfalen", "en": "Region Südwestfalen"},
    "staff_towns_heading": {"de": "Städte", "en": "Towns"},
    "staff_town_heading": {"de": "Verwaltung {town}", "en": "Administration {town}"},
    "staff_consultations": {"de": "Beteiligungen anlegen, öffnen, schließen und auswerten",
                            "en": "Create, open, close and evaluate consultations"},
    "staff_moderation": {"de": "Moderation der Kommentare", "en": "Moderation of comments"},
    "staff_ideas": {"de": "Ideen der Bürgerinnen und Bürger", "en": "Citizens' ideas"},
    "staff_town_results": {"de": "Ergebnisse der Stadt", "en": "Results of the town"},
    "staff_catalogue": {"de": "Maßnahmenkatalog: Import und Stand", "en": "Measure catalogue: import and status"},
    "staff_regional_results": {"de": "Ergebnisse der Region", "en": "Results of the region"},
    "staff_deliveries": {"de": "Zustellprotokoll der E-Mails", "en": "Email delivery log"},
    "staff_to_sign_in": {"de": "Zur Anmeldung für die Verwaltung", "en": "To the staff sign-in"},
}
